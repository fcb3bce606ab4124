/* [output] summaries, summarise, sample_every, summarise_every, read once
 * into a typed plan: which metrics (each a run of output slots per
 * variable), over which variables, and the run's time grid that saves,
 * samples and windows share. The kernel side is <cubie/device/summaries.h>. */
#include "config.h"
#include "solver.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* In the order of cubie.ini(5); counted: peaks[n] keep n times. */
static const struct { const char *name, *macro; int slots, counted; } metrics[] = {
	{"mean", "MEAN", 1, 0},
	{"max", "MAX", 1, 0},
	{"min", "MIN", 1, 0},
	{"rms", "RMS", 1, 0},
	{"std", "STD", 1, 0},
	{"extrema", "EXTREMA", 2, 0},
	{"max_magnitude", "MAX_MAGNITUDE", 1, 0},
	{"peaks", "PEAKS", 0, 1},
	{"negative_peaks", "NEGATIVE_PEAKS", 0, 1},
	{"dxdt_max", "DXDT_MAX", 1, 0},
	{"dxdt_min", "DXDT_MIN", 1, 0},
	{"dxdt_extrema", "DXDT_EXTREMA", 2, 0},
	{"d2xdt2_max", "D2XDT2_MAX", 1, 0},
	{"d2xdt2_min", "D2XDT2_MIN", 1, 0},
	{"d2xdt2_extrema", "D2XDT2_EXTREMA", 2, 0},
};
enum { N_METRICS = sizeof metrics / sizeof metrics[0], MAX_PEAKS = 64 };

void summaries_free(struct summaries *sm)
{
	free(sm->vars);
	cfg_free_names(sm->var_names, sm->n_vars);
	if (sm->names) /* NULL when a variable was refused before naming them */
		cfg_free_names(sm->names, sm->n_vars * sm->n_slots);
	memset(sm, 0, sizeof *sm);
}

static int bad(const struct settings *st, const struct cfg_entry *at, const char *key,
               cubie_error *e, const char *fmt, const char *what)
{
	char loc[600], msg[400];
	snprintf(msg, sizeof msg, fmt, what);
	return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [output] %s: %s",
	               settings_loc(st, at, loc, sizeof loc), key, msg);
}

/* "mean, peaks[3]": each metric's first slot, in the order given. */
static int parse_metrics(const struct settings *st, struct summaries *sm, cubie_error *e)
{
	const struct cfg_entry *at = st->output.at.summaries;
	const char *text = st->output.summaries;
	char *copy = cb_strdup(text ? text : ""), *save = NULL;
	int rc = copy ? 0 : cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	for (int m = 0; m < N_METRICS; m++)
		sm->slot[m] = -1;
	for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !rc;
	     tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		size_t len = strcspn(tok, "[ \t");
		char *open = strchr(tok, '[');
		int m = 0, count = 3;
		while (m < N_METRICS && (strlen(metrics[m].name) != len ||
		                         strncmp(metrics[m].name, tok, len)))
			m++;
		if (m == N_METRICS) {
			const char *cands[N_METRICS];
			for (int k = 0; k < N_METRICS; k++)
				cands[k] = metrics[k].name;
			tok[len] = '\0';
			const char *hint = expr_hint(tok, cands, N_METRICS);
			char what[200];
			snprintf(what, sizeof what, "'%s'%s%s%s", tok, hint ? " (did you mean '" : "",
			         hint ? hint : "", hint ? "'?)" : "");
			rc = bad(st, at, "summaries", e, "unknown metric %s", what);
		} else if (sm->slot[m] >= 0) {
			rc = bad(st, at, "summaries", e, "'%s' is given twice", metrics[m].name);
		} else if (open && (!metrics[m].counted || sscanf(open, "[%d]", &count) != 1 ||
		                    count < 1 || count > MAX_PEAKS)) {
			rc = bad(st, at, "summaries", e, metrics[m].counted ? "%s[n] needs n from 1 to 64"
			                                               : "%s takes no [n]", metrics[m].name);
		} else {
			sm->slot[m] = (int)sm->n_slots;
			sm->count[m] = metrics[m].counted ? count : metrics[m].slots;
			sm->n_slots += (size_t)sm->count[m];
		}
	}
	free(copy);
	return rc;
}

/* Names along the summaries' second axis: "x.mean", "x.peaks[0]", ... */
static int name_slots(struct summaries *sm)
{
	static const char *const two[] = {"max", "min"};
	sm->names = calloc(sm->n_vars * sm->n_slots + 1, sizeof *sm->names);
	if (!sm->names)
		return -1;
	for (size_t v = 0; v < sm->n_vars; v++)
		for (int m = 0; m < N_METRICS; m++)
			for (int k = 0; sm->slot[m] >= 0 && k < sm->count[m]; k++) {
				char **at = &sm->names[v * sm->n_slots + (size_t)sm->slot[m] + (size_t)k];
				if (metrics[m].counted)
					*at = cb_printf("%s.%s[%d]", sm->var_names[v], metrics[m].name, k);
				else if (metrics[m].slots == 2)
					*at = cb_printf("%s.%s.%s", sm->var_names[v], metrics[m].name, two[k]);
				else
					*at = cb_printf("%s.%s", sm->var_names[v], metrics[m].name);
				if (!*at)
					return -1;
			}
	return 0;
}

int summaries_read(cubie_solver *s, cubie_error *e)
{
	const struct settings *st = &s->set;
	const struct cfg_entry *at = st->output.at.summarise;
	struct summaries *sm = &s->sums;
	int rc = parse_metrics(st, sm, e);
	if (rc || !sm->n_slots)
		return rc;
	/* default: the saved variables */
	char *const *from = st->output.n_summarise ? st->output.summarise : s->save_names;
	sm->n_vars = st->output.n_summarise ? st->output.n_summarise : s->n_save;
	sm->var_names = calloc(sm->n_vars + 1, sizeof *sm->var_names);
	for (size_t i = 0; sm->var_names && i < sm->n_vars; i++)
		sm->var_names[i] = cb_strdup(from[i]);
	sm->vars = calloc(sm->n_vars + 1, sizeof *sm->vars);
	sm->n_states = s->model->n_states;
	if (!sm->vars || !sm->var_names)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	for (size_t i = 0; i < sm->n_vars; i++)
		if ((sm->vars[i] = model_var(s->model, sm->var_names[i])) < 0)
			return bad(st, at, "summarise", e, "'%s' is neither a state nor an observable",
			           sm->var_names[i]);
	if (!sm->n_vars)
		return bad(st, at, "summarise", e, "%s", "no variable to summarise: name some");
	return name_slots(sm) ? cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory") : 0;
}

void summaries_defines(const struct summaries *sm, sbuf *b)
{
	sb_add(b, "#define CUBIE_NSUMVARS %zu\n", sm->n_slots ? sm->n_vars : 0);
	if (!sm->n_slots)
		return;
	sb_add(b, "#define CUBIE_NSLOTS %zu\n#define CUBIE_SAMPLE_TICKS %d\n#define CUBIE_SUM_STATE {",
	       sm->n_slots, sm->sample_every > 0);
	for (size_t v = 0; v < sm->n_vars; v++) /* states first among model_var's indices */
		sb_add(b, "%s%d", v ? ", " : "", sm->vars[v] < (int)sm->n_states ? sm->vars[v] : -1);
	sb_add(b, "}\n");
	for (int m = 0; m < N_METRICS; m++)
		if (sm->slot[m] >= 0) {
			sb_add(b, "#define CUBIE_S_%s %d\n", metrics[m].macro, sm->slot[m]);
			if (metrics[m].counted)
				sb_add(b, "#define CUBIE_N%sPEAKS %d\n", m == 7 ? "" : "NEG", sm->count[m]);
		}
}

/* The grid saves, samples and windows land on: the finest of their
 * intervals, which the others must be whole multiples of. */
int grid_plan(cubie_solver *s, cubie_error *e)
{
	const struct settings *st = &s->set;
	const struct settings_output *o = &st->output;
	struct summaries *sm = &s->sums;
	sm->sample_every = o->sample_every;
	sm->summarise_every = o->summarise_every;
	/* 0 or more was checked when read (settings.c) */
	if (settings_require(st, o->at.sample_every, "output", "sample_every",
	                     sm->sample_every <= s->duration, "between 0 and the duration", e) ||
	    settings_require(st, o->at.summarise_every, "output", "summarise_every",
	                     sm->summarise_every <= s->duration, "between 0 and the duration", e))
		return CUBIE_ERR_CONFIG;
	if (!sm->n_slots)
		sm->sample_every = sm->summarise_every = 0;
	const char *keys[] = {"save_every", "sample_every", "summarise_every"};
	const struct cfg_entry *ats[] = {o->at.save_every, o->at.sample_every, o->at.summarise_every};
	double every[] = {s->save_every, sm->sample_every, sm->summarise_every}, tick = s->duration;
	for (int i = 0; i < 3; i++)
		if (every[i] > 0 && every[i] < tick)
			tick = every[i];
	int ticks[3];
	for (int i = 0; i < 3; i++) {
		double q = every[i] / tick;
		char loc[600];
		if (every[i] > 0 && fabs(q - round(q)) > 1e-9 * q)
			return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [output] %s = %g is not a whole multiple "
			               "of %g, the finest of save_every, sample_every and summarise_every",
			               settings_loc(st, ats[i], loc, sizeof loc), keys[i], every[i], tick);
		ticks[i] = (int)round(q);
	}
	double n = ceil(s->duration / tick - 1e-9);
	int finest = 0; /* the key that set the tick, for the message */
	while (finest < 2 && every[finest] != tick)
		finest++;
	if (settings_require(st, ats[finest], "output", keys[finest], n <= 1e9, "large enough to "
	                     "give at most 1e9 saves or samples over the duration", e))
		return CUBIE_ERR_CONFIG;
	s->grid.tick = tick;
	s->grid.n_ticks = n < 1 ? 1 : (int)n;
	s->grid.save_ticks = ticks[0] ? ticks[0] : s->grid.n_ticks;
	s->grid.sample_ticks = ticks[1] ? ticks[1] : 1;
	s->grid.window_ticks = ticks[2] ? ticks[2] : s->grid.n_ticks;
	s->n_saves = (size_t)((s->grid.n_ticks + s->grid.save_ticks - 1) / s->grid.save_ticks) + 1;
	sm->n_windows = sm->n_slots ? (size_t)((s->grid.n_ticks + s->grid.window_ticks - 1) /
	                                       s->grid.window_ticks) : 0;
	return 0;
}
