set terminal pngcairo size 1200,500 noenhanced
set output 'bench.png'
set title 'Modeled overhead over native (linear model, size default)'
set ylabel 'overhead, % of native cycles'
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.7
set key outside right top
set xtics rotate by -30
set grid ytics
set yrange [0:*]
plot 'bench-plot.dat' using 2:xtic(1) title 'page walks', \
     '' using 3 title 'VMM interventions'
