// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `patchgate report`: read one gated apply back from an audit log and the
 * histograms beside it, have gnuplot draw it, and write the picture (PNG,
 * SVG) or an HTML page around it.  gnuplot runs as a child in a temporary
 * directory that holds its script and data files (view/gate_report.c
 * writes them); the output goes to a temporary file beside --out and is
 * renamed over it at the end, so a failure leaves no partial file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "gate/opts.h"
#include "view/gate_report.h"
#include "view/output.h"
#include "lib/file.h"

#define REPORT_MAX_AUDIT	(512u << 20)	/* bytes of audit log read at most */
#define REPORT_MAX_HIST		(64u << 20)
#define REPORT_MAX_PIC		(64u << 20)

extern char **environ;

struct report {
	struct pg_ctx *ctx;
	const struct pg_report_opts *o;
	enum rpt_format fmt;
	struct rpt_gate g;
	char dir[PATH_MAX];		/* gnuplot's temporary directory, "" when none */
	char tmp[PATH_MAX];		/* the output's temporary file */
	int tmp_fd;
};

/* Remove the temporary directory and what is in it (flat: only our files). */
static void tmpdir_remove(struct report *r)
{
	struct dirent *de;
	DIR *d;

	if (!r->dir[0])
		return;
	d = opendir(r->dir);
	if (d) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	rmdir(r->dir);
	r->dir[0] = '\0';
}

/* Open @name in the temporary directory for writing; NULL with a message. */
static FILE *tmp_open(struct report *r, const char *name)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	f = fopen(path, "we");
	if (!f)
		pg_err(r->ctx, PG_EXIT_SYSTEM, "report: cannot write %s: %s", path, strerror(errno));
	return f;
}

/* Close a data file; an error (a full /tmp) is a system error. */
static int tmp_close(struct report *r, FILE *f, const char *name)
{
	if (ferror(f) | fclose(f)) {
		pg_err(r->ctx, PG_EXIT_SYSTEM, "report: cannot write %s/%s: %s", r->dir, name,
		       strerror(errno ? errno : EIO));
		return PG_EXIT_SYSTEM;
	}
	return 0;
}

typedef unsigned int (*rpt_side_writer)(const struct rpt_gate *g, unsigned int i, bool post, FILE *f);

/* One side's data file of function @i: @name, written by @w; its rows into *@rows. */
static int side_file(struct report *r, const char *fmt, rpt_side_writer w, unsigned int i, int side,
		     unsigned int *rows)
{
	char name[64];
	FILE *f;

	snprintf(name, sizeof(name), fmt, i, side);
	f = tmp_open(r, name);
	if (!f)
		return PG_EXIT_SYSTEM;
	*rows = w(&r->g, i, side, f);
	return tmp_close(r, f, name);
}

/* The data files and the script; @files says which data files hold rows. */
static int write_inputs(struct report *r, struct rpt_files *files)
{
	enum rpt_format pic = r->fmt == RPT_PNG ? RPT_PNG : RPT_SVG;
	FILE *f;
	int e;

	files->out = pic == RPT_PNG ? "picture.png" : "picture.svg";
	f = tmp_open(r, "phases.dat");
	if (!f)
		return PG_EXIT_SYSTEM;
	files->phase_rows = rpt_write_phases(&r->g, f);
	if ((e = tmp_close(r, f, "phases.dat")))
		return e;
	for (unsigned int i = 0; i < r->g.nfn; i++) {
		for (int s = 0; s < 2; s++) {
			e = side_file(r, "f%u_cdf%d.dat", rpt_write_cdf, i, s, &files->cdf_rows[i][s]);
			if (!e)
				e = side_file(r, "f%u_mark%d.dat", rpt_write_marks, i, s, &files->mark_rows[i][s]);
			if (e)
				return e;
		}
	}
	f = tmp_open(r, "report.gp");
	if (!f)
		return PG_EXIT_SYSTEM;
	rpt_write_script(&r->g, pic, files, f);
	return tmp_close(r, f, "report.gp");
}

/* The first line of gnuplot's complaints, for the message. */
static void first_error(struct report *r, char *buf, size_t len)
{
	char path[PATH_MAX + 64], *text = NULL, *p;

	snprintf(path, sizeof(path), "%s/gnuplot.err", r->dir);
	buf[0] = '\0';
	if (pg_file_read(path, 1 << 20, &text, NULL))
		return;
	/* gnuplot points at the column on a line of its own: take the line that says why */
	for (p = strtok(text, "\n"); p; p = strtok(NULL, "\n")) {
		if (strstr(p, "rror") || strstr(p, "line ")) {
			snprintf(buf, len, "%s", p);
			break;
		}
		if (!buf[0] && strspn(p, " ^") != strlen(p))
			snprintf(buf, len, "%s", p);
	}
	free(text);
}

/*
 * Run "gnuplot report.gp" in the temporary directory, its output to
 * gnuplot.err there.  0, or PG_EXIT_SYSTEM with a message.
 */
static int run_gnuplot(struct report *r)
{
	char *const argv[] = { "gnuplot", "report.gp", NULL };
	posix_spawn_file_actions_t fa;
	char err_path[PATH_MAX + 64], why[512];
	int e, status;
	pid_t pid;

	snprintf(err_path, sizeof(err_path), "%s/gnuplot.err", r->dir);
	if (posix_spawn_file_actions_init(&fa))
		goto nomem;
	e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!e)
		e = posix_spawn_file_actions_addopen(&fa, 1, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (!e)
		e = posix_spawn_file_actions_adddup2(&fa, 1, 2);
	if (!e)
		e = posix_spawn_file_actions_addchdir_np(&fa, r->dir);
	if (!e)
		e = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e) {
		pg_err(r->ctx, PG_EXIT_SYSTEM, "report: cannot run gnuplot: %s%s", strerror(e),
		       e == ENOENT ? " -- install Debian's gnuplot-nox" : "");
		return PG_EXIT_SYSTEM;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			pg_err(r->ctx, PG_EXIT_SYSTEM, "report: waiting for gnuplot: %s", strerror(errno));
			return PG_EXIT_SYSTEM;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		first_error(r, why, sizeof(why));
		pg_err(r->ctx, PG_EXIT_SYSTEM, "report: gnuplot failed (%s %d)%s%s",
		       WIFEXITED(status) ? "exit" : "signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
		       why[0] ? ": " : "", why);
		return PG_EXIT_SYSTEM;
	}
	return 0;
nomem:
	pg_err(r->ctx, PG_EXIT_SYSTEM, "report: out of memory");
	return PG_EXIT_SYSTEM;
}

/*
 * The gate's histograms, from the file its final decision names, relative
 * to the audit log's directory.  Without them the report still draws the
 * recorded quantiles: a warning, not an error.
 */
static void load_hists(struct report *r)
{
	const char *ref = r->g.hist_ref;
	char *d = NULL, path[PATH_MAX], *text = NULL, why[512];
	int e;

	if (!ref) {
		pg_warn(r->ctx, "report: gate %u's histograms were not recorded -- drawing its "
			"recorded p50/p90/p99 only", r->g.index);
		return;
	}
	/* a name the gate wrote: hist/FILE.json, never a path out of the directory */
	if (strncmp(ref, "hist/", 5) || strchr(ref + 5, '/') || ref[5] == '.' || !ref[5]) {
		pg_warn(r->ctx, "report: ignoring the histograms reference '%s': not hist/FILE", ref);
		return;
	}
	d = strdup(r->o->audit);
	if (!d)
		return;
	snprintf(path, sizeof(path), "%s/%s", dirname(d), ref);
	free(d);
	e = pg_file_read(path, REPORT_MAX_HIST, &text, NULL);
	if (e) {
		pg_warn(r->ctx, "report: cannot read the histograms %s: %s -- drawing the recorded "
			"p50/p90/p99 only", path, strerror(-e));
		return;
	}
	e = rpt_load_hists(&r->g, text, why, sizeof(why));
	free(text);
	if (e) {
		pg_warn(r->ctx, "report: %s: %s -- drawing the recorded p50/p90/p99 only", path,
			e == -ENOMEM ? strerror(ENOMEM) : why);
		for (unsigned int i = 0; i < r->g.nfn; i++) {
			free(r->g.fn[i].base);
			free(r->g.fn[i].post);
			r->g.fn[i].base = r->g.fn[i].post = NULL;
		}
		r->g.hists = false;
	}
}

/* Draw, then fill *@out (*@len bytes) with the file to write. */
static int render(struct report *r, char **out, size_t *len)
{
	struct rpt_files files = {};
	char path[PATH_MAX + 64], *pic = NULL;
	size_t plen = 0;
	FILE *f;
	int e;

	e = write_inputs(r, &files);
	if (!e)
		e = run_gnuplot(r);
	if (e)
		return e;
	snprintf(path, sizeof(path), "%s/%s", r->dir, files.out);
	e = pg_file_read(path, REPORT_MAX_PIC, &pic, &plen);
	if (e || !plen) {
		pg_err(r->ctx, PG_EXIT_SYSTEM, "report: gnuplot wrote no picture (%s)",
		       e ? strerror(-e) : "empty");
		free(pic);
		return PG_EXIT_SYSTEM;
	}
	if (r->fmt != RPT_HTML) {
		*out = pic;
		*len = plen;
		return 0;
	}
	f = open_memstream(out, len);
	if (!f) {
		free(pic);
		pg_err(r->ctx, PG_EXIT_SYSTEM, "report: out of memory");
		return PG_EXIT_SYSTEM;
	}
	rpt_write_html(&r->g, pic, f);
	free(pic);
	if (ferror(f) | fclose(f)) {
		pg_err(r->ctx, PG_EXIT_SYSTEM, "report: out of memory");
		return PG_EXIT_SYSTEM;
	}
	return 0;
}

static int report_read(struct report *r)
{
	char *text = NULL, why[PATH_MAX + 256];
	int e;

	e = pg_file_read(r->o->audit, REPORT_MAX_AUDIT, &text, NULL);
	if (e) {
		pg_err(r->ctx, PG_EXIT_USAGE, "report: cannot read the audit log %s: %s", r->o->audit,
		       strerror(-e));
		return PG_EXIT_USAGE;
	}
	e = rpt_parse(text, r->o->audit, r->o->gate, &r->g, why, sizeof(why));
	free(text);
	if (e == -ENOMEM) {
		pg_err(r->ctx, PG_EXIT_SYSTEM, "report: out of memory");
		return PG_EXIT_SYSTEM;
	}
	if (e) {
		pg_err(r->ctx, PG_EXIT_USAGE, "report: %s", why);
		return PG_EXIT_USAGE;
	}
	load_hists(r);
	return 0;
}

int report_main(struct pg_ctx *ctx, const struct pg_report_opts *o)
{
	struct report r = { .ctx = ctx, .o = o, .tmp_fd = -1 };
	const char *tmpbase = getenv("TMPDIR");
	char *out = NULL, line[PATH_MAX + 512];
	size_t len = 0;
	struct stat st;
	json_object *rec;
	int e;

	r.fmt = rpt_format_of(o->out);
	if (r.fmt == RPT_NONE) {
		pg_err(ctx, PG_EXIT_USAGE, "report: cannot tell the format of '%s': --out must end in "
		       ".png, .svg or .html", o->out);
		return PG_EXIT_USAGE;
	}
	/* the destination first: nothing is drawn for a file that cannot be written */
	if (!stat(o->out, &st) && S_ISDIR(st.st_mode)) {
		pg_err(ctx, PG_EXIT_USAGE, "report: cannot write %s: %s", o->out, strerror(EISDIR));
		return PG_EXIT_USAGE;
	}
	r.tmp_fd = pg_file_begin(o->out, r.tmp, sizeof(r.tmp));
	if (r.tmp_fd < 0) {
		pg_err(ctx, PG_EXIT_USAGE, "report: cannot write %s: %s", o->out, strerror(-r.tmp_fd));
		return PG_EXIT_USAGE;
	}
	e = report_read(&r);
	if (e)
		goto cleanup;
	snprintf(r.dir, sizeof(r.dir), "%s/patchgate-report.XXXXXX",
		 tmpbase && *tmpbase ? tmpbase : "/tmp");
	if (!mkdtemp(r.dir)) {
		r.dir[0] = '\0';
		pg_err(ctx, PG_EXIT_SYSTEM, "report: cannot make a temporary directory: %s", strerror(errno));
		e = PG_EXIT_SYSTEM;
		goto cleanup;
	}
	e = render(&r, &out, &len);
	if (e)
		goto cleanup;
	e = pg_file_commit(r.tmp_fd, r.tmp, o->out, out, len);
	r.tmp_fd = -1;
	if (e) {
		pg_err(ctx, PG_EXIT_SYSTEM, "report: cannot write %s: %s", o->out, strerror(-e));
		e = PG_EXIT_SYSTEM;
		goto cleanup;
	}
	if (ctx->json) {
		rec = rpt_result_json(&r.g, o->out, r.fmt, (long long)len);
		if (rec)
			pg_json_emit(rec);
	} else {
		rpt_result_line(&r.g, o->out, r.fmt, (long long)len, line, sizeof(line));
		printf("%s\n", line);
	}
cleanup:
	if (r.tmp_fd >= 0)
		pg_file_abort(r.tmp_fd, r.tmp);
	if (!ctx->verbose)
		tmpdir_remove(&r);
	else if (r.dir[0])
		pg_info(ctx, "report: gnuplot's script and data kept in %s", r.dir);
	free(out);
	rpt_free(&r.g);
	return e;
}
