/* Stiff test problems of the Test Set for IVP Solvers (F. Mazzia et al.,
 * Bari; after Hairer and Wanner, Solving ODEs II), as model files, with the
 * published reference solutions at their end times. */
#ifndef CUBIE_T_STIFF_H
#define CUBIE_T_STIFF_H

struct stiff_problem {
	const char *name, *ini;
	double t_end;
	int n;
	double ref[8];
	double atol_scale; /* atol = rtol x this: the size of the smallest component of interest */
};

static const struct stiff_problem stiff_problems[] = {
	{"ROBER",
	 "[model]\nstates = y1, y2, y3\n[equations]\n"
	 "dy1 = -0.04 * y1 + 1e4 * y2 * y3\n"
	 "dy2 = 0.04 * y1 - 1e4 * y2 * y3 - 3e7 * y2^2\n"
	 "dy3 = 3e7 * y2^2\n"
	 "[initial]\ny1 = 1\ny2 = 0\ny3 = 0\n",
	 1e11, 3, {0.2083340149701255e-7, 0.8333360770334713e-13, 0.9999999791665050}, 1e-14},
	{"HIRES",
	 "[model]\nstates = y1, y2, y3, y4, y5, y6, y7, y8\n[equations]\n"
	 "dy1 = -1.71 * y1 + 0.43 * y2 + 8.32 * y3 + 0.0007\n"
	 "dy2 = 1.71 * y1 - 8.75 * y2\n"
	 "dy3 = -10.03 * y3 + 0.43 * y4 + 0.035 * y5\n"
	 "dy4 = 8.32 * y2 + 1.71 * y3 - 1.12 * y4\n"
	 "dy5 = -1.745 * y5 + 0.43 * y6 + 0.43 * y7\n"
	 "dy6 = -280 * y6 * y8 + 0.69 * y4 + 1.71 * y5 - 0.43 * y6 + 0.69 * y7\n"
	 "dy7 = 280 * y6 * y8 - 1.81 * y7\n"
	 "dy8 = -280 * y6 * y8 + 1.81 * y7\n"
	 "[initial]\ny1 = 1\ny2 = 0\ny3 = 0\ny4 = 0\ny5 = 0\ny6 = 0\ny7 = 0\ny8 = 0.0057\n",
	 321.8122, 8,
	 {0.7371312573325668e-3, 0.1442485726316185e-3, 0.5888729740967575e-4,
	  0.1175651343283149e-2, 0.2386356198831331e-2, 0.6238968252742796e-2,
	  0.2849998395185769e-2, 0.2850001604814231e-2}, 1e-4},
	{"OREGO",
	 "[model]\nstates = y1, y2, y3\n[equations]\n"
	 "dy1 = 77.27 * (y2 + y1 * (1 - 8.375e-6 * y1 - y2))\n"
	 "dy2 = (y3 - (1 + y1) * y2) / 77.27\n"
	 "dy3 = 0.161 * (y1 - y3)\n"
	 "[initial]\ny1 = 1\ny2 = 2\ny3 = 3\n",
	 360, 3, {0.1000814870318523e1, 0.1228178521549917e4, 0.1320554942846706e3}, 1},
	/* Van der Pol with mu = 1000, in the test set's scaled time
	 * (eps = 1 / mu^2) */
	{"VDPOL",
	 "[model]\nstates = y1, y2\n[constants]\neps = 1e-6\n[equations]\n"
	 "dy1 = y2\n"
	 "dy2 = ((1 - y1^2) * y2 - y1) / eps\n"
	 "[initial]\ny1 = 2\ny2 = 0\n",
	 2, 2, {0.1706167732170483e1, -0.8928097010247975e0}, 1},
};
#define N_STIFF (sizeof stiff_problems / sizeof stiff_problems[0])
#endif
