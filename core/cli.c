/* The cubie command: a thin user of the public API. */
#include "config.h"

#include <cubie/cubie.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int verbosity = 1; /* 0 quiet, 1 normal, 2 verbose */

static const char usage[] =
	"usage: cubie run FILE.ini [-o OUT] [-s SECTION.KEY=VALUE]... [-q|-v]\n"
	"       cubie check FILE.ini [-s SECTION.KEY=VALUE]...\n"
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

/* Shared by run and check: FILE.ini, then -o, -s, -q, -v. */
static int load(int argc, char **argv, int allow_o, cubie_config **cfg)
{
	cubie_error e = {0};
	const char *file = NULL, *out = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-q"))
			verbosity = 0;
		else if (!strcmp(a, "-v"))
			verbosity = 2;
		else if ((!strcmp(a, "-o") && allow_o) || !strcmp(a, "-s")) {
			if (i + 1 == argc)
				return usage_error("%s needs a value", a);
			i++;
			if (a[1] == 'o')
				out = argv[i];
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
		if (!(rc = cubie_solve(s, &r, &e)))
			rc = cubie_result_write(r, s, NULL, &e);
	}
	if (rc) {
		rc = fail(&e);
	} else {
		size_t failed = cubie_result_failed(r);
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

static int cmd_check(int argc, char **argv)
{
	cubie_config *cfg;
	cubie_solver *s;
	cubie_error e = {0};
	int rc = load(argc, argv, 0, &cfg);
	if (rc)
		return rc;
	if ((rc = cubie_solver_create(cfg, &s, &e))) {
		cubie_config_free(cfg);
		return fail(&e);
	}
	char *settings = cubie_config_describe(cfg), *plan = cubie_solver_describe(s);
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
	if (argc > 1)
		return usage_error("%s", "plugins takes at most one configuration file");
	if (argc == 1 && cubie_config_load(argv[0], &cfg, &e))
		return fail(&e);
	char *list = cubie_plugins_describe(cfg, &e);
	cubie_config_free(cfg);
	if (!list)
		return fail(&e);
	fputs(list, stdout);
	free(list);
	return 0;
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
