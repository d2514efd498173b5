// SPDX-License-Identifier: GPL-2.0
/*
 * pagerank: Graph500-style Kronecker graph, BFS with validation, and
 * PageRank on the same graph; self-checking.
 *
 * Generation (untimed, reported as graph_generation): N = 2^SCALE
 * vertices, M = edgefactor * N edges, each edge picks one quadrant per
 * level of the initiator A = 0.57, B = C = 0.19, D = 0.05; then vertex
 * labels are permuted and the edge list shuffled, both with a seeded PRNG,
 * so the graph depends only on SCALE, edgefactor and the seed.  Self-loops
 * and duplicate edges stay in the list.
 *
 * BFS (Graph500 kernels 1 and 2): construction_time is the time to build
 * an undirected CSR from the edge list (self-loops left out, duplicates
 * kept).  NBFS roots of degree >= 1 are drawn with the PRNG; each search
 * returns a parent array, and is validated against the edge list: the
 * parents form a tree rooted at the root without cycles (levels come from
 * walking the parents, so tree edges are one level apart), every parent
 * edge exists in the input, every input edge joins two vertices at most
 * one level apart, and no input edge leaves the tree (it spans the
 * component).  Traversed edges are the input edges (self-loops excepted)
 * inside the component; TEPS are combined by harmonic mean.
 *
 * PageRank: on the directed edges u -> v of the list (duplicates count as
 * parallel edges), damping 0.85, the rank of vertices without out-edges
 * spread over all vertices, a fixed number of iterations (default 20;
 * -t EPS stops earlier once the L1 change is below EPS).  The timed code
 * pulls over an in-edge CSR.  It is checked against an independent push
 * computation over the raw edge list: the ranks must sum to 1 within 1e-6
 * and the two results agree within 1e-9 (L1).  The checksum of the ten
 * top-ranked vertices is the same for every run of one SCALE/seed.
 *
 * usage: pagerank [-s SCALE] [-e edgefactor] [-b NBFS] [-i iterations]
 *                 [-t eps] [-r seed]
 *   defaults: SCALE 18, edgefactor 16, NBFS 8, 20 iterations, eps 0,
 *   seed 1 (Graph500 itself runs NBFS 64 and SCALE 26 and up)
 *
 * Last line: RESULT: name=pagerank ... check=passed|failed; the exit
 * status is 1 when any check failed.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG "pagerank"
#include "bench-util.h"

#define NONE		UINT32_MAX
#define DAMPING		0.85
#define TOPK		10
#define MAX_NBFS	64

struct edge {
	uint32_t u, v;
};

struct csr {
	uint64_t *off;		/* n + 1 offsets into adj */
	uint32_t *adj;
};

static uint64_t rng_state;

/* splitmix64: a small, well-mixed, seedable generator. */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) (bias below 2^-32 for the n used here). */
static uint64_t rng_below(uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next() * n) >> 64);
}

static uint64_t fnv(uint64_t h, uint64_t x)
{
	return (h ^ x) * 0x100000001b3ULL;
}

/* Kronecker edge list: quadrant choice per level, then relabel, shuffle. */
static struct edge *kronecker(int scale, uint64_t m)
{
	const double a = 0.57, b = 0.19, c = 0.19;
	/* P(row bit 1) = C + D; P(col bit 1 | row 0) = B / (A + B), etc. */
	const uint64_t row1 = (uint64_t)((a + b) * 4294967296.0);
	const uint64_t col_r0 = (uint64_t)(a / (a + b) * 4294967296.0);
	const uint64_t col_r1 = (uint64_t)(c / (1 - a - b) * 4294967296.0);
	uint64_t n = 1ULL << scale, e, i;
	struct edge *el = xmalloc(m * sizeof(*el));
	uint32_t *perm = xmalloc(n * sizeof(*perm));
	int l;

	for (e = 0; e < m; e++) {
		uint32_t u = 0, v = 0;

		for (l = 0; l < scale; l++) {
			uint64_t r = rng_next();
			uint32_t ib = (r >> 32) >= row1;
			uint32_t jb = (r & 0xffffffff) >= (ib ? col_r1 : col_r0);

			u |= ib << l;
			v |= jb << l;
		}
		el[e].u = u;
		el[e].v = v;
	}
	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n - 1; i > 0; i--) {
		uint64_t j = rng_below(i + 1);
		uint32_t t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (e = 0; e < m; e++) {
		el[e].u = perm[el[e].u];
		el[e].v = perm[el[e].v];
	}
	for (e = m - 1; e > 0; e--) {
		uint64_t j = rng_below(e + 1);
		struct edge t = el[e];

		el[e] = el[j];
		el[j] = t;
	}
	xfree(perm);
	return el;
}


/*
 * Turn the vertex degrees in @pos into the offsets of each vertex's list
 * (in g->off, and in @pos as the next free slot) and allocate the lists.
 */
static void csr_place(struct csr *g, uint64_t *pos, uint64_t n)
{
	uint64_t v, sum = 0;

	for (v = 0; v < n; v++) {
		uint64_t d = pos[v];

		g->off[v] = pos[v] = sum;
		sum += d;
	}
	g->off[n] = sum;
	g->adj = xmalloc(sum * sizeof(*g->adj));
}
/* Kernel 1: undirected CSR, self-loops dropped. */
static void build_undirected(struct csr *g, const struct edge *el,
			     uint64_t n, uint64_t m)
{
	uint64_t *pos = xmalloc(n * sizeof(*pos)), e;

	g->off = xmalloc((n + 1) * sizeof(*g->off));
	memset(pos, 0, n * sizeof(*pos));
	for (e = 0; e < m; e++) {
		if (el[e].u == el[e].v)
			continue;
		pos[el[e].u]++;
		pos[el[e].v]++;
	}
	csr_place(g, pos, n);
	for (e = 0; e < m; e++) {
		if (el[e].u == el[e].v)
			continue;
		g->adj[pos[el[e].u]++] = el[e].v;
		g->adj[pos[el[e].v]++] = el[e].u;
	}
	xfree(pos);
}

/* In-edge CSR (sources of each vertex) and out-degrees, for PageRank. */
static void build_incoming(struct csr *g, uint32_t *outdeg,
			   const struct edge *el, uint64_t n, uint64_t m)
{
	uint64_t *pos = xmalloc(n * sizeof(*pos)), e;

	g->off = xmalloc((n + 1) * sizeof(*g->off));
	memset(pos, 0, n * sizeof(*pos));
	memset(outdeg, 0, n * sizeof(*outdeg));
	for (e = 0; e < m; e++) {
		pos[el[e].v]++;
		outdeg[el[e].u]++;
	}
	csr_place(g, pos, n);
	for (e = 0; e < m; e++)
		g->adj[pos[el[e].v]++] = el[e].u;
	xfree(pos);
}

/* Kernel 2: top-down BFS; parent[] is the only output. */
static void bfs(const struct csr *g, uint64_t n, uint32_t root,
		uint32_t *parent, uint32_t *queue)
{
	uint64_t head = 0, tail = 0, k;

	memset(parent, 0xff, n * sizeof(*parent));
	parent[root] = root;
	queue[tail++] = root;
	while (head < tail) {
		uint32_t u = queue[head++];

		for (k = g->off[u]; k < g->off[u + 1]; k++) {
			uint32_t w = g->adj[k];

			if (parent[w] == NONE) {
				parent[w] = u;
				queue[tail++] = w;
			}
		}
	}
}

/*
 * Graph500 validation of one parent array against the input edge list.
 * Returns the number of traversed input edges, or -1 with a reason.
 */
static int64_t validate(const struct edge *el, uint64_t n, uint64_t m,
			uint32_t root, const uint32_t *parent, int32_t *level,
			uint8_t *found, const char **why)
{
	uint64_t v, e;
	int64_t nedge = 0;

	if (parent[root] != root) {
		*why = "root is not its own parent";
		return -1;
	}
	for (v = 0; v < n; v++) {
		if (parent[v] != NONE && parent[v] >= n) {
			*why = "parent out of range";
			return -1;
		}
		level[v] = parent[v] == NONE ? -1 : -2;
		found[v] = 0;
	}
	level[root] = 0;
	/* Levels from the parent chains; a chain longer than n is a cycle. */
	for (v = 0; v < n; v++) {
		uint64_t steps = 0;
		uint32_t x = v;
		int32_t d;

		while (level[x] == -2) {
			x = parent[x];
			if (++steps > n) {
				*why = "cycle in the parent array";
				return -1;
			}
		}
		if (level[x] == -1) {
			if (steps) {
				*why = "parent of a reached vertex not reached";
				return -1;
			}
			continue;
		}
		d = level[x] + steps;
		for (x = v; level[x] == -2; x = parent[x])
			level[x] = d--;
	}
	for (e = 0; e < m; e++) {
		uint32_t a = el[e].u, b = el[e].v;
		int32_t la = level[a], lb = level[b];

		if (a == b)
			continue;
		if ((la < 0) != (lb < 0)) {
			*why = "an edge leaves the tree (component not spanned)";
			return -1;
		}
		if (la < 0)
			continue;
		nedge++;
		if (la - lb > 1 || lb - la > 1) {
			*why = "edge endpoints more than one level apart";
			return -1;
		}
		if (parent[b] == a)
			found[b] = 1;
		if (parent[a] == b)
			found[a] = 1;
	}
	for (v = 0; v < n; v++) {
		if (v != root && level[v] >= 0 && !found[v]) {
			*why = "a tree edge is not in the input";
			return -1;
		}
	}
	return nedge;
}

/* Timed PageRank: pull over in-edges.  Returns iterations done. */
static int pagerank_pull(const struct csr *in, const uint32_t *outdeg,
			 uint64_t n, int iters, double eps, double *rank,
			 double *next, double *contrib, double *delta)
{
	uint64_t v, k;
	int it;

	for (v = 0; v < n; v++)
		rank[v] = 1.0 / n;
	for (it = 0; it < iters; it++) {
		double dangling = 0, base, diff = 0, *t;

		for (v = 0; v < n; v++) {
			if (outdeg[v]) {
				contrib[v] = rank[v] / outdeg[v];
			} else {
				contrib[v] = 0;
				dangling += rank[v];
			}
		}
		base = (1 - DAMPING) / n + DAMPING * dangling / n;
		for (v = 0; v < n; v++) {
			double s = 0;

			for (k = in->off[v]; k < in->off[v + 1]; k++)
				s += contrib[in->adj[k]];
			next[v] = base + DAMPING * s;
			diff += fabs(next[v] - rank[v]);
		}
		t = rank;
		rank = next;
		next = t;
		*delta = diff;
		if (diff < eps) {
			it++;
			break;
		}
	}
	/* Leave the result in the caller's rank[] whatever the parity. */
	if (it & 1)
		memcpy(next, rank, n * sizeof(*rank));
	return it;
}

/* Check: push along the raw edge list, out-degrees counted afresh. */
static void pagerank_push(const struct edge *el, uint64_t n, uint64_t m,
			  int iters, double *rank, double *next)
{
	uint32_t *deg = xmalloc(n * sizeof(*deg));
	uint64_t v, e;
	int it;

	memset(deg, 0, n * sizeof(*deg));
	for (e = 0; e < m; e++)
		deg[el[e].u]++;
	for (v = 0; v < n; v++)
		rank[v] = 1.0 / n;
	for (it = 0; it < iters; it++) {
		double dangling = 0, base, *t;

		for (v = 0; v < n; v++) {
			next[v] = 0;
			if (!deg[v])
				dangling += rank[v];
		}
		for (e = 0; e < m; e++)
			next[el[e].v] += rank[el[e].u] / deg[el[e].u];
		base = (1 - DAMPING) / n + DAMPING * dangling / n;
		for (v = 0; v < n; v++)
			next[v] = base + DAMPING * next[v];
		t = rank;
		rank = next;
		next = t;
	}
	if (iters & 1)
		memcpy(next, rank, n * sizeof(*rank));
	xfree(deg);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *x, int n)
{
	qsort(x, n, sizeof(*x), cmp_double);
	return n & 1 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: pagerank [-s SCALE 1..30] [-e edgefactor] [-b NBFS 0..64]\n"
		"                [-i iterations] [-t eps] [-r seed] [-p sys|dseg]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int scale = 18, ef = 16, nbfs = 8, iters = 20, opt, nroots = 0, i, k;
	int prit, ok = 1;
	const char *pages = "sys";
	uint64_t seed = 1, n, m, v, e, gsum, topsum, tries;
	double eps = 0, t0, gen_time, cons_time, pr_build, pr_time, bfs_total = 0;
	double btime[MAX_NBFS], bedge[MAX_NBFS], bteps[MAX_NBFS], hsum = 0;
	double delta = 0, rsum = 0, l1diff = 0, *rank, *next, *contrib, *check;
	uint32_t roots[MAX_NBFS], *parent, *queue, *outdeg, top[TOPK];
	const char *why = NULL;
	struct csr ug, in;
	struct edge *el;
	int32_t *level;
	uint8_t *found;

	while ((opt = getopt(argc, argv, "s:e:b:i:t:r:p:h")) != -1) {
		switch (opt) {
		case 's':
			scale = atoi(optarg);
			break;
		case 'e':
			ef = atoi(optarg);
			break;
		case 'b':
			nbfs = atoi(optarg);
			break;
		case 'i':
			iters = atoi(optarg);
			break;
		case 't':
			eps = strtod(optarg, NULL);
			break;
		case 'r':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			pages = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || scale < 1 || scale > 30 || ef < 1 || ef > 64 ||
	    nbfs < 0 || nbfs > MAX_NBFS || iters < 1 || eps < 0 ||
	    (strcmp(pages, "sys") && strcmp(pages, "dseg")))
		usage();
	n = 1ULL << scale;
	m = (uint64_t)ef * n;
	if (!strcmp(pages, "dseg")) {
		/*
		 * Every array in one /dev/dseg arena, nothing freed: the edge
		 * list (8m), both CSRs (8m + 4m of neighbours, 2 x 8n offsets
		 * and 2 x 8n placement counters), and 4n + 4n + 13n + 4n + 32n
		 * of per-vertex arrays (permutation, degrees, BFS, out-degrees,
		 * ranks): 20m + 89n, plus 64 KiB for alignment.
		 */
		size_t len = 20 * m + 96 * n + (64 << 10);
		void *base = map_dseg(len);

		if (!base)
			return 2;
		set_arena(base, len);
		printf("pages: dseg, %zu bytes\n", len);
	}

	rng_state = seed;
	t0 = now();
	el = kronecker(scale, m);
	gen_time = now() - t0;
	gsum = 0xcbf29ce484222325ULL;
	for (e = 0; e < m; e++)
		gsum = fnv(gsum, (uint64_t)el[e].u << 32 | el[e].v);

	printf("SCALE: %d\n", scale);
	printf("edgefactor: %d\n", ef);
	printf("graph_generation: %g\n", gen_time);
	printf("graph_checksum: %016" PRIx64 "\n", gsum);
	printf("num_mpi_processes: 1\n");
	fflush(stdout);

	t0 = now();
	build_undirected(&ug, el, n, m);
	cons_time = now() - t0;
	printf("construction_time: %g\n", cons_time);

	/* Roots: distinct vertices with at least one neighbour. */
	rng_state = seed ^ 0x5851f42d4c957f2dULL;
	for (tries = 0; nroots < nbfs && tries < 64 * MAX_NBFS + 16 * n; tries++) {
		uint32_t r = rng_below(n);

		if (ug.off[r + 1] == ug.off[r])
			continue;
		for (i = 0; i < nroots && roots[i] != r; i++)
			;
		if (i == nroots)
			roots[nroots++] = r;
	}
	if (nroots < nbfs) {
		fprintf(stderr, "pagerank: only %d roots of degree >= 1\n", nroots);
		nbfs = nroots;
	}
	printf("NBFS: %d\n", nbfs);

	parent = xmalloc(n * sizeof(*parent));
	queue = xmalloc(n * sizeof(*queue));
	level = xmalloc(n * sizeof(*level));
	found = xmalloc(n);
	for (i = 0; i < nbfs; i++) {
		int64_t nedge;

		t0 = now();
		bfs(&ug, n, roots[i], parent, queue);
		btime[i] = now() - t0;
		bfs_total += btime[i];
		nedge = validate(el, n, m, roots[i], parent, level, found, &why);
		if (nedge < 0) {
			fprintf(stderr, "pagerank: BFS %d from %u invalid: %s\n",
				i, roots[i], why);
			ok = 0;
			nedge = 0;
		}
		bedge[i] = nedge;
		bteps[i] = btime[i] > 0 ? nedge / btime[i] : 0;
		hsum += bteps[i] > 0 ? 1 / bteps[i] : 0;
	}
	xfree(ug.off);
	xfree(ug.adj);
	xfree(queue);
	xfree(level);
	xfree(found);
	xfree(parent);
	if (nbfs) {
		double hmean = hsum > 0 ? nbfs / hsum : 0;
		double tmin = btime[0], tmax = btime[0];
		double emin = bedge[0], emax = bedge[0];

		for (i = 1; i < nbfs; i++) {
			tmin = btime[i] < tmin ? btime[i] : tmin;
			tmax = btime[i] > tmax ? btime[i] : tmax;
			emin = bedge[i] < emin ? bedge[i] : emin;
			emax = bedge[i] > emax ? bedge[i] : emax;
		}
		printf("min_time: %g\n", tmin);
		printf("median_time: %g\n", median(btime, nbfs));
		printf("max_time: %g\n", tmax);
		printf("mean_time: %g\n", bfs_total / nbfs);
		printf("min_nedge: %.0f\n", emin);
		printf("median_nedge: %.0f\n", median(bedge, nbfs));
		printf("max_nedge: %.0f\n", emax);
		printf("median_TEPS: %g\n", median(bteps, nbfs));
		printf("harmonic_mean_TEPS: %g\n", hmean);
		/* bteps[] is sorted now; keep the hmean for RESULT. */
		bteps[0] = hmean;
	}
	printf("bfs_validation: %s\n", ok ? "passed" : "failed");
	fflush(stdout);

	/* PageRank. */
	outdeg = xmalloc(n * sizeof(*outdeg));
	t0 = now();
	build_incoming(&in, outdeg, el, n, m);
	pr_build = now() - t0;
	rank = xmalloc(n * sizeof(*rank));
	next = xmalloc(n * sizeof(*next));
	contrib = xmalloc(n * sizeof(*contrib));
	t0 = now();
	prit = pagerank_pull(&in, outdeg, n, iters, eps, rank, next, contrib,
			     &delta);
	pr_time = now() - t0;
	xfree(in.off);
	xfree(in.adj);
	xfree(contrib);
	xfree(outdeg);

	check = xmalloc(n * sizeof(*check));
	pagerank_push(el, n, m, prit, check, next);
	for (v = 0; v < n; v++) {
		rsum += rank[v];
		l1diff += fabs(rank[v] - check[v]);
	}
	/* Top TOPK by rank, ties to the lower vertex number. */
	for (k = 0; k < TOPK; k++)
		top[k] = NONE;
	for (v = 0; v < n; v++) {
		for (k = TOPK; k > 0; k--) {
			uint32_t w = top[k - 1];

			if (w != NONE && rank[w] >= rank[v])
				break;
			if (k < TOPK)
				top[k] = w;
		}
		if (k < TOPK)
			top[k] = v;
	}
	topsum = 0xcbf29ce484222325ULL;
	for (k = 0; k < TOPK && top[k] != NONE; k++)
		topsum = fnv(topsum, top[k]);

	printf("pagerank_build_time: %g\n", pr_build);
	printf("pagerank_iterations: %d\n", prit);
	printf("pagerank_time: %g\n", pr_time);
	printf("pagerank_edges_per_second: %g\n",
	       pr_time > 0 ? (double)m * prit / pr_time : 0);
	printf("pagerank_last_l1_change: %.3e\n", delta);
	printf("pagerank_sum: %.12f\n", rsum);
	printf("pagerank_push_l1_diff: %.3e\n", l1diff);
	printf("pagerank_top:");
	for (k = 0; k < TOPK && top[k] != NONE; k++)
		printf(" %u:%.6e", top[k], rank[top[k]]);
	printf("\n");
	if (fabs(rsum - 1) > 1e-6) {
		fprintf(stderr, "pagerank: ranks sum to %.12f\n", rsum);
		ok = 0;
	}
	if (!(l1diff <= 1e-9)) {
		fprintf(stderr, "pagerank: pull and push differ by %.3e (L1)\n",
			l1diff);
		ok = 0;
	}

	printf("RESULT: name=pagerank scale=%d edgefactor=%d nbfs=%d"
	       " graph_generation=%.6f construction_time=%.6f bfs_seconds=%.6f"
	       " harmonic_mean_teps=%.6g pr_iterations=%d pr_build_seconds=%.6f"
	       " pr_seconds=%.6f seconds=%.6f graph_checksum=%016" PRIx64
	       " top_checksum=%016" PRIx64 " check=%s\n",
	       scale, ef, nbfs, gen_time, cons_time, bfs_total,
	       nbfs ? bteps[0] : 0, prit, pr_build, pr_time,
	       cons_time + bfs_total + pr_build + pr_time, gsum, topsum,
	       ok ? "passed" : "failed");
	xfree(el);
	xfree(rank);
	xfree(next);
	xfree(check);
	return ok ? 0 : 1;
}
