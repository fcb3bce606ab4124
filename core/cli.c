/* The cubie command: a thin user of the public API. */
#include "config.h"

#include <cubie/cubie.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int verbosity = 1; /* 0 quiet, 1 normal, 2 verbose */

static const char usage[] =
	"usage: cubie run FILE.ini [-o OUT] [-s SECTION.KEY=VALUE]... [-q|-v]\n"
	"       cubie check FILE.ini [-s SECTION.KEY=VALUE]... [-q|-v] [--backend cuda --arch sm_NN]\n"
	"       cubie plugins [FILE.ini]\n"
	"       cubie devices\n"
	"       cubie --help | --version\n";

static void on_log(int level, const char *msg, void *user)
{
	static const char *const tag[] = {"error: ", "warning: ", "", ""};
	if (level <= CUBIE_LOG_WARN + (verbosity > 1 ? 2 : 0) && verbosity > 0)
		fprintf(stderr, "cubie: %s%s\n", tag[level], msg);
}

static int fail(const cubie_error *e)
{
	if (*e->msg) /* empty: an MPI rank whose error rank 0 reports */
		fprintf(stderr, "cubie: %s\n", e->msg);
	return e->code ? e->code : 3;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "cubie: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return 2;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A progress line on a terminal: runs done, runs/s, ETA. */
static double progress_t0;
static void on_progress(size_t done, size_t runs, void *user)
{
	double dt = now() - progress_t0, rate = dt > 0 ? (double)done / dt : 0;
	fprintf(stderr, "\rcubie: %zu/%zu runs (%.0f%%), %.3g runs/s, ETA %.0f s   ", done, runs,
	        100.0 * (double)done / (double)runs, rate, rate > 0 ? (double)(runs - done) / rate : 0);
	if (done == runs)
		fputc('\n', stderr);
}

static const char *arch; /* check --arch */

/* Shared by run and check: FILE.ini, then -o (run), -s, -q, -v,
 * --backend (as -s device.backend=) and --arch (check). */
static int load(int argc, char **argv, int allow_o, cubie_config **cfg)
{
	cubie_error e = {0};
	const char *file = NULL, *out = NULL, *backend = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-q"))
			verbosity = 0;
		else if (!strcmp(a, "-v"))
			verbosity = 2;
		else if ((!strcmp(a, "-o") && allow_o) || !strcmp(a, "-s") ||
		         !strcmp(a, "--backend") || (!strcmp(a, "--arch") && !allow_o)) {
			if (i + 1 == argc)
				return usage_error("%s needs a value", a);
			i++;
			if (a[1] == 'o')
				out = argv[i];
			else if (!strcmp(a, "--backend"))
				backend = argv[i];
			else if (!strcmp(a, "--arch"))
				arch = argv[i];
		} else if (a[0] == '-')
			return usage_error("unknown option '%s'", a);
		else if (file)
			return usage_error("one configuration file only ('%s')", a);
		else
			file = a;
	}
	if (!file)
		return usage_error("%s", "no configuration file given");
	if (cubie_config_load(file, cfg, &e))
		return fail(&e);
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], "-s") && cubie_config_set(*cfg, argv[++i], &e))
			return cubie_config_free(*cfg), fail(&e);
	if (backend) {
		char set[128];
		snprintf(set, sizeof set, "device.backend=%s", backend);
		if (cubie_config_set(*cfg, set, &e))
			return cubie_config_free(*cfg), fail(&e);
	}
	if (out) {
		char *set = malloc(strlen(out) + 16);
		if (!set)
			return cubie_config_free(*cfg), 3;
		sprintf(set, "output.file=%s", out);
		int rc = cubie_config_set(*cfg, set, &e);
		free(set);
		if (rc)
			return cubie_config_free(*cfg), fail(&e);
	}
	return 0;
}

/* The first few failed runs, with their inputs and status in words, so
 * that the user sees which part of the sweep failed and why. */
static void name_failures(const cubie_result *r)
{
	enum { SHOWN = 5 };
	const cubie_array *st = cubie_result_find(r, "status"), *in = cubie_result_find(r, "inputs"),
	                  *at = cubie_result_find(r, "reached");
	size_t n_names = 0, runs = cubie_result_runs(r), shown = 0;
	const char *const *names = cubie_result_names(r, "inputs", &n_names);
	const int32_t *status = st ? st->data : NULL;
	const double *inputs = in ? in->data : NULL;
	for (size_t i = 0; status && i < runs && shown < SHOWN; i++) {
		if (!CUBIE_STATUS_FAILED(status[i])) /* 0, or stopped by an event */
			continue;
		char why[160] = "";
		static const struct { int bit; const char *what; } words[] = {
			{CUBIE_STATUS_NONFINITE, "the state became NaN or infinite"},
			{CUBIE_STATUS_MAX_STEPS, "max_steps reached before the end"},
			{CUBIE_STATUS_DT_MIN, "the step fell below dt_min"},
			{CUBIE_STATUS_SINGULAR, "singular iteration matrix"},
			{CUBIE_STATUS_NEWTON, "Newton did not converge"},
			{CUBIE_STATUS_ZENO, "events chattered (Zeno): [events] max_chatter resets in a row"},
		};
		for (size_t k = 0; k < sizeof words / sizeof *words; k++)
			if (status[i] & words[k].bit)
				snprintf(why + strlen(why), sizeof why - strlen(why), "%s%s", *why ? "; " : "",
				         words[k].what);
		if (!*why)
			snprintf(why, sizeof why, "status %d", (int)status[i]);
		fprintf(stderr, "cubie: run %zu failed (", i);
		for (size_t k = 0; inputs && names && k < n_names; k++)
			fprintf(stderr, "%s%s=%.6g", k ? ", " : "", names[k], inputs[k * runs + i]);
		fprintf(stderr, "): %s", why);
		if (at)
			fprintf(stderr, " at t = %.9g", ((const double *)at->data)[i]);
		fputc('\n', stderr);
		shown++;
	}
	size_t failed = cubie_result_failed(r);
	if (failed > shown)
		fprintf(stderr, "cubie: ... and %zu more failed runs (the output holds every run's "
		        "status)\n", failed - shown);
}

static int cmd_run(int argc, char **argv)
{
	cubie_config *cfg;
	cubie_solver *s = NULL;
	cubie_result *r = NULL;
	cubie_error e = {0};
	int rc = load(argc, argv, 1, &cfg);
	if (rc)
		return rc;
	double t = now();
	if (!(rc = cubie_solver_create(cfg, &s, &e))) {
		if (verbosity > 0 && isatty(2)) {
			progress_t0 = now();
			cubie_solver_set_progress(s, on_progress, NULL);
		}
		double t1 = now();
		if (!(rc = cubie_solve_write(s, NULL, &r, &e)) && verbosity > 1)
			fprintf(stderr, "cubie: setup %.1f ms, solve and write %.1f ms\n", (t1 - t) * 1e3,
			        (now() - t1) * 1e3);
	}
	if (rc) {
		rc = fail(&e);
	} else if (r) { /* none on MPI ranks other than 0: rank 0 reports */
		size_t failed = cubie_result_failed(r);
		if (verbosity > 0 && failed)
			name_failures(r);
		if (verbosity > 0) {
			char *plan = cubie_solver_describe(s);
			const char *backend = plan ? strstr(plan, "backend:") : NULL;
			fprintf(stderr, "cubie: %zu runs in %.2f s, %zu failed; %.*s\n",
			        cubie_result_runs(r), now() - t, failed,
			        backend ? (int)strcspn(backend, "\n") : 0, backend ? backend : "");
			free(plan);
		}
		rc = failed ? 1 : 0;
	}
	cubie_result_free(r);
	cubie_solver_free(s);
	cubie_config_free(cfg);
	return rc;
}

/* check prints the settings and the plan (nothing with -q: the exit status
 * says it all). With --arch it compiles for that GPU architecture with
 * NVRTC instead of opening a device, so a plugin author can check CUDA
 * compatibility on a machine without a GPU. */
static int cmd_check(int argc, char **argv)
{
	cubie_config *cfg;
	cubie_solver *s = NULL;
	cubie_error e = {0};
	char *plan = NULL;
	int rc = load(argc, argv, 0, &cfg);
	if (rc)
		return rc;
	if (arch) {
		if (cubie_config_set(cfg, "device.backend=cuda", &e) ||
		    !(plan = cubie_compile_check(cfg, arch, &e))) {
			cubie_config_free(cfg);
			return fail(&e);
		}
	} else if ((rc = cubie_solver_create(cfg, &s, &e))) {
		cubie_config_free(cfg);
		return fail(&e);
	} else {
		plan = cubie_solver_describe(s);
	}
	char *settings = cubie_config_describe(cfg);
	if (verbosity > 0)
		printf("%s\n%s", settings ? settings : "", plan ? plan : "");
	free(settings);
	free(plan);
	cubie_solver_free(s);
	cubie_config_free(cfg);
	return 0;
}

static int cmd_plugins(int argc, char **argv)
{
	cubie_config *cfg = NULL;
	cubie_error e = {0};
	int rc;
	if (argc > 1)
		return usage_error("%s", "plugins takes at most one configuration file");
	if (argc == 1 && cubie_config_load(argv[0], &cfg, &e))
		return fail(&e);
	char *list = cubie_plugins_describe(cfg, &e);
	cubie_config_free(cfg);
	if (!list)
		return fail(&e);
	fputs(list, stdout);
	/* an installation that finds no plugins cannot run anything (3); a
	 * file that is refused (listed with why) is a broken setup (2) */
	rc = !strncmp(list, "no plugins found", 16) ? 3 : strstr(list, "  refused: ") ? 2 : 0;
	free(list);
	return rc;
}

/* Interrupted: remove the output's temporary files, then die of the signal
 * as the caller expects. */
static void on_signal(int sig)
{
	cubie_remove_temporaries();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void set_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction old;
		/* one that the caller ignores (nohup, a background job) stays so */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
	/* past ulimit -f a write fails with EFBIG ("File too large", exit 3)
	 * instead of killing the process with the earlier output half-replaced */
	signal(SIGXFSZ, SIG_IGN);
}

int main(int argc, char **argv)
{
	cubie_set_log(on_log, NULL);
	set_signals();
	if (argc < 2)
		return usage_error("%s", "no command given");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("cubie %s\n", cubie_version());
		return 0;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 2, argv + 2);
	if (!strcmp(cmd, "plugins"))
		return cmd_plugins(argc - 2, argv + 2);
	if (!strcmp(cmd, "devices")) {
		cubie_error e = {0};
		char *list = argc == 2 ? cubie_devices_describe(&e) : NULL;
		if (argc > 2)
			return usage_error("%s", "devices takes no arguments");
		if (!list)
			return fail(&e);
		fputs(list, stdout);
		free(list);
		return 0;
	}
	return usage_error("unknown command '%s'", cmd);
}
