# Drawn by scripts/bench-report from bench-plot.dat: cd to this
# directory and run gnuplot bench.gp.
set terminal pngcairo size 1480,930 noenhanced font ',10'
set output 'bench.png'
set multiplot title "Modeled overhead over native in % of native cycles (size default), documented prices; error bars: the price band"
set style fill solid 0.85 border lc rgb 'black'
set grid ytics
set xtics rotate by 40 right nomirror
set ytics nomirror
set key off
set xzeroaxis lt -1
set origin 0.000,0.475
set size 0.425,0.475
set title 'gups (symmetric log scale)'
set xrange [-0.7:9.700000]
set yrange [-3.195234:3.960967]
set ytics ("0%%" 0.000000, "10%%" 1.041393, "-10%%" -1.041393, "100%%" 2.004321, "-100%%" -2.004321, "1000%%" 3.000434, "-1000%%" -3.000434)
plot 'bench-plot.dat' index 0 using 1:(0):($1-0.38):($1+0.38):9:10:8 with boxxyerror lc rgb variable fs solid 0.85, \
     '' index 0 using 1:(0):($1-0.38):($1+0.38):11:12:8 with boxxyerror lc rgb variable fs pattern 4 border lc rgb 'black', \
     '' index 0 using 1:13:14:15:xtic(2) with yerrorbars lc rgb 'black' pt 7 ps 0.6
set origin 0.425,0.475
set size 0.425,0.475
set title 'pagerank (symmetric log scale)'
set xrange [-0.7:9.700000]
set yrange [-0.913297:1.586748]
set ytics ("0%%" 0.000000, "1%%" 0.301030, "-1%%" -0.301030, "3%%" 0.602060, "-3%%" -0.602060, "10%%" 1.041393, "30%%" 1.491362)
plot 'bench-plot.dat' index 1 using 1:(0):($1-0.38):($1+0.38):9:10:8 with boxxyerror lc rgb variable fs solid 0.85, \
     '' index 1 using 1:(0):($1-0.38):($1+0.38):11:12:8 with boxxyerror lc rgb variable fs pattern 4 border lc rgb 'black', \
     '' index 1 using 1:13:14:15:xtic(2) with yerrorbars lc rgb 'black' pt 7 ps 0.6
set origin 0.000,0.000
set size 0.425,0.475
set title 'memcached (symmetric log scale)'
set xrange [-0.7:9.700000]
set yrange [-0.137016:2.959554]
set ytics ("0%%" 0.000000, "1%%" 0.301030, "3%%" 0.602060, "10%%" 1.041393, "30%%" 1.491362, "100%%" 2.004321, "300%%" 2.478566)
plot 'bench-plot.dat' index 2 using 1:(0):($1-0.38):($1+0.38):9:10:8 with boxxyerror lc rgb variable fs solid 0.85, \
     '' index 2 using 1:(0):($1-0.38):($1+0.38):11:12:8 with boxxyerror lc rgb variable fs pattern 4 border lc rgb 'black', \
     '' index 2 using 1:13:14:15:xtic(2) with yerrorbars lc rgb 'black' pt 7 ps 0.6
set origin 0.425,0.000
set size 0.425,0.475
set title 'kcbench (symmetric log scale)'
set xrange [-0.7:9.700000]
set yrange [-0.074935:1.618596]
set ytics ("0%%" 0.000000, "1%%" 0.301030, "3%%" 0.602060, "10%%" 1.041393, "30%%" 1.491362)
plot 'bench-plot.dat' index 3 using 1:(0):($1-0.38):($1+0.38):9:10:8 with boxxyerror lc rgb variable fs solid 0.85, \
     '' index 3 using 1:(0):($1-0.38):($1+0.38):11:12:8 with boxxyerror lc rgb variable fs pattern 4 border lc rgb 'black', \
     '' index 3 using 1:13:14:15:xtic(2) with yerrorbars lc rgb 'black' pt 7 ps 0.6
set origin 0.850,0.05
set size 0.150,0.85
unset title
unset border
unset tics
unset grid
unset xzeroaxis
set xrange [0:1]
set yrange [0:1]
set key at graph 0.05,1 left top Left reverse samplen 2 spacing 1.3 title 'configuration'
plot NaN with boxes fs solid 0.85 lc rgb '#4d4d4d' title 'native', \
     NaN with boxes fs solid 0.85 lc rgb '#e41a1c' title 'nested', \
     NaN with boxes fs solid 0.85 lc rgb '#377eb8' title 'shadow', \
     NaN with boxes fs solid 0.85 lc rgb '#a6761d' title 'agile-base', \
     NaN with boxes fs solid 0.85 lc rgb '#ff7f00' title 'agile', \
     NaN with boxes fs solid 0.85 lc rgb '#4daf4a' title 'tpt-opt', \
     NaN with boxes fs solid 0.85 lc rgb '#b2df8a' title 'tpt-naive', \
     NaN with boxes fs solid 0.85 lc rgb '#984ea3' title 'vmm-direct', \
     NaN with boxes fs solid 0.85 lc rgb '#f781bf' title 'guest-direct', \
     NaN with boxes fs solid 0.85 lc rgb '#17becf' title 'dual-direct', \
     NaN with boxes fs solid 0.85 lc rgb 'gray' title 'page walks', \
     NaN with boxes fs pattern 4 lc rgb 'gray' title 'VMM interventions', \
     NaN with points lc rgb 'black' pt 7 ps 0.6 title 'total (bars: band)'
unset multiplot
