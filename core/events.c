/* [events], read once into a typed plan: each event's function (its
 * source from model.c), direction, action and the rows it takes in the
 * output, after the saved values and the summaries:
 *   events.NAME        [count][runs] the first count crossing times (NaN: none)
 *   events.NAME.count  [runs]        crossings, all of them
 *   events.NAME.first  [runs]        (asked) the first time: row 0 of the times
 *   events.NAME.last   [runs]        (asked) the last crossing's time
 * The kernel side is <cubie/device/events.h>. */
#include "config.h"
#include "internal.h"
#include "settings.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* [events] keys that are settings, not events (in the schema). */
static const char *const settings[] = {"tolerance", "max_chatter", "chatter_spacing", NULL};
/* NAME.SUFFIX keys */
static const char *const suffixes[] = {"direction", "action", "count", "summaries", NULL};
#define MAX_COUNT 1000000
#define LOC 600

void events_free(struct events *ev)
{
	cfg_free_names(ev->names, ev->n);
	cfg_free_names(ev->array_names, ev->n_arrays);
	free(ev->source);
	memset(ev, 0, sizeof *ev);
}

static int is_setting(const char *key)
{
	for (const char *const *s = settings; *s; s++)
		if (!strcmp(*s, key))
			return 1;
	return 0;
}

static int valid_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	while (isalnum((unsigned char)*s) || *s == '_')
		s++;
	return !*s;
}

static int bad(const struct cfg_entry *en, cubie_error *e, const char *what)
{
	char loc[600];
	return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [events] %s = %s: %s", cfg_loc(en, loc, sizeof loc),
	               en->key, en->value, what);
}

/* The event NAME of a key NAME.SUFFIX, or -1. */
static int event_of(const struct events *ev, const char *key, size_t len)
{
	for (size_t k = 0; k < ev->n; k++)
		if (strlen(ev->names[k]) == len && !strncmp(ev->names[k], key, len))
			return (int)k;
	return -1;
}

/* NAME.summaries: first, last (the count is always there). */
static int read_summaries(const struct cfg_entry *en, struct events *ev, int k, cubie_error *e)
{
	char *copy = cb_strdup(en->value), *save = NULL;
	int rc = copy ? 0 : cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	for (char *tok = copy ? strtok_r(copy, ", \t", &save) : NULL; tok && !rc;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (!strcmp(tok, "first"))
			ev->first[k] = 1;
		else if (!strcmp(tok, "last"))
			ev->last[k] = 1;
		else if (strcmp(tok, "count"))
			rc = bad(en, e, "expected any of count, first, last");
	}
	free(copy);
	return rc;
}

static int read_suffix(const struct cfg_entry *en, struct events *ev, int k, const char *suffix,
                       struct event_src *src, char *loc, cubie_error *e)
{
	const char *v = en->value;
	if (!strcmp(suffix, "direction")) {
		if (!strcmp(v, "up") || !strcmp(v, "down") || !strcmp(v, "both"))
			ev->dir[k] = v[0] == 'u' ? 1 : v[0] == 'd' ? -1 : 0;
		else
			return bad(en, e, "expected up, down or both");
	} else if (!strcmp(suffix, "action")) {
		if (!strcmp(v, "record") || !strcmp(v, "stop")) {
			ev->act[k] = v[0] == 's';
		} else if (strstr(v, ":=")) {
			ev->act[k] = 2;
			src->reset = v;
			src->reset_loc = cfg_loc(en, loc, LOC);
		} else {
			return bad(en, e, "expected record, stop, or a reset 'state := expression, ...'");
		}
	} else if (!strcmp(suffix, "count")) {
		char *end;
		long n = strtol(v, &end, 10);
		if (end == v || *end || n < 1 || n > MAX_COUNT)
			return bad(en, e, "expected a whole number from 1 to 1000000");
		ev->count[k] = (int)n;
	} else {
		return read_summaries(en, ev, k, e);
	}
	return 0;
}

/* The names of the arrays, and the rows. */
static int lay_out(struct events *ev)
{
	int row = 0;
	ev->array_names = calloc(4 * ev->n + 1, sizeof *ev->array_names);
	if (!ev->array_names)
		return -1;
	for (size_t k = 0; k < ev->n; k++) {
		ev->row[k] = row;
		row += ev->count[k] + 1;
		ev->last[k] = ev->last[k] ? row++ : -1;
		const char *nm = ev->names[k];
		char **a = ev->array_names;
		if (!(a[ev->n_arrays++] = cb_printf("events.%s", nm)) ||
		    !(a[ev->n_arrays++] = cb_printf("events.%s.count", nm)) ||
		    (ev->first[k] && !(a[ev->n_arrays++] = cb_printf("events.%s.first", nm))) ||
		    (ev->last[k] >= 0 && !(a[ev->n_arrays++] = cb_printf("events.%s.last", nm))))
			return -1;
	}
	ev->rows = (size_t)row;
	return 0;
}

int events_read(const cubie_config *c, const struct settings *st, const struct model *m,
                struct events *ev, cubie_error *e)
{
	size_t ne;
	const struct cfg_entry **en = cfg_section(c, "events", &ne);
	struct event_src src[CB_MAX_EVENTS];
	char *locs = malloc(2 * CB_MAX_EVENTS * LOC); /* the events' places, then the resets' */
	int rc = en && locs ? 0 : cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	memset(ev, 0, sizeof *ev);
	ev->names = calloc(CB_MAX_EVENTS + 1, sizeof *ev->names);
	if (!ev->names)
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	/* the events first (NAME = expression), then their NAME.SUFFIX keys */
	for (size_t i = 0; !rc && i < ne; i++) {
		const char *key = en[i]->key;
		if (is_setting(key) || strchr(key, '.'))
			continue;
		if (!valid_name(key) || strlen(key) > 40)
			rc = bad(en[i], e, "an event's name is up to 40 letters, digits and _ ('name = "
			         "expression')");
		else if (ev->n == CB_MAX_EVENTS)
			rc = bad(en[i], e, "more than 16 events");
		else if (!(ev->names[ev->n] = cb_strdup(key)))
			rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		if (rc)
			break;
		size_t k = ev->n++;
		src[k] = (struct event_src){ev->names[k], en[i]->value,
		                            cfg_loc(en[i], locs + k * LOC, LOC), NULL, NULL};
		ev->count[k] = 1;
	}
	for (size_t i = 0; !rc && i < ne; i++) {
		const char *key = en[i]->key, *dot = strchr(key, '.');
		if (!dot)
			continue;
		int k = event_of(ev, key, (size_t)(dot - key));
		size_t s = 0;
		while (suffixes[s] && strcmp(suffixes[s], dot + 1))
			s++;
		char what[300];
		if (k < 0) {
			snprintf(what, sizeof what, "no event '%.*s' (define it as '%.*s = expression')",
			         (int)(dot - key), key, (int)(dot - key), key);
			rc = bad(en[i], e, what);
		} else if (!suffixes[s]) {
			const char *h = expr_hint(dot + 1, suffixes, 4);
			snprintf(what, sizeof what, "unknown key '%s'%s%s%s: expected %s.direction, "
			         ".action, .count or .summaries", dot + 1, h ? " (did you mean '" : "",
			         h ? h : "", h ? "'?)" : "", ev->names[k]);
			rc = bad(en[i], e, what);
		} else {
			rc = read_suffix(en[i], ev, k, suffixes[s], &src[k],
			                 locs + (CB_MAX_EVENTS + k) * LOC, e);
		}
	}
	free(en);
	if (!rc && ev->n) {
		/* checked only when there are events: unused keys may be anything */
		const struct settings_events *set = &st->events;
		ev->tol = set->tolerance;
		ev->chatter = set->max_chatter;
		ev->spacing = set->chatter_spacing;
		if (settings_require(st, set->at.tolerance, "events", "tolerance", ev->tol > 0,
		                     "positive", e) ||
		    settings_require(st, set->at.max_chatter, "events", "max_chatter",
		                     ev->chatter >= 1 && ev->chatter <= 1000000000, "from 1 to 1e9", e) ||
		    settings_require(st, set->at.chatter_spacing, "events", "chatter_spacing",
		                     ev->spacing >= 0, "0 or more", e))
			rc = CUBIE_ERR_CONFIG;
		else if (!(rc = model_events(m, src, ev->n, &ev->source, e)) && lay_out(ev))
			rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	}
	free(locs);
	return rc;
}

static void list(sbuf *b, const char *name, const int *v, size_t n)
{
	sb_add(b, "#define %s {", name);
	for (size_t k = 0; k < n; k++)
		sb_add(b, "%s%d", k ? ", " : "", v[k]);
	sb_add(b, "}\n");
}

void events_defines(const struct events *ev, sbuf *b)
{
	if (!ev->n)
		return;
	sb_add(b, "#define CUBIE_EVENTS 1\n#define CUBIE_NEVENTS %zu\n#define CUBIE_EV_ROWS %zu\n"
	       "#define CUBIE_EV_TOL %.17g\n#define CUBIE_EV_SPACING %.17g\n"
	       "#define CUBIE_EV_CHATTER %lld\n", ev->n, ev->rows, ev->tol, ev->spacing, ev->chatter);
	list(b, "CUBIE_EV_DIR", ev->dir, ev->n);
	list(b, "CUBIE_EV_ACT", ev->act, ev->n);
	list(b, "CUBIE_EV_COUNT", ev->count, ev->n);
	list(b, "CUBIE_EV_ROW", ev->row, ev->n);
	list(b, "CUBIE_EV_LAST", ev->last, ev->n);
}

size_t events_arrays(const struct events *ev, char *const *names, const void *base, size_t runs,
                     int dtype, cubie_array *arr)
{
	const size_t r = dtype == CUBIE_DTYPE_FLOAT32 ? 4 : 8;
	size_t m = 0;
	for (size_t k = 0; k < ev->n; k++) {
		const char *at = base ? (const char *)base + (size_t)ev->row[k] * runs * r : NULL;
		arr[m] = (cubie_array){names[m], dtype, 2, {(size_t)ev->count[k], runs, 0}, at};
		m++;
		arr[m] = (cubie_array){names[m], dtype, 1, {runs, 0, 0},
		                       at ? at + (size_t)ev->count[k] * runs * r : NULL};
		m++;
		if (ev->first[k]) {
			arr[m] = (cubie_array){names[m], dtype, 1, {runs, 0, 0}, at};
			m++;
		}
		if (ev->last[k] >= 0) {
			arr[m] = (cubie_array){names[m], dtype, 1, {runs, 0, 0},
			                       base ? (const char *)base + (size_t)ev->last[k] * runs * r
			                            : NULL};
			m++;
		}
	}
	return m;
}
