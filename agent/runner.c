/* runner.c - one supervised child process in its own process group. */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "redact.h"
#include "strbuf.h"
#include "util.h"

struct runner {
	pid_t pid;
	int fd[3];               /* [1] stdout, [2] stderr */
	struct strbuf partial[3];
	bool drop[3];            /* dropping the rest of a line to its '\n' */
	const struct redactor *redactor;
	int64_t started, timeout_ms, grace_ms;
	int64_t kill_at;         /* SIGKILL deadline after SIGTERM, or 0 */
	int64_t exited_at;       /* when the child was reaped, or 0 */
	bool signalled;
	enum runner_end why;
	int status;
};

static void child(const struct runner_spec *spec, int out, int errfd,
		  int report)
{
	sigset_t none;
	int devnull;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	devnull = open("/dev/null", O_RDONLY);
	if (devnull == -1 || dup2(devnull, 0) == -1 || dup2(out, 1) == -1 ||
	    dup2(errfd, 2) == -1 || (spec->workdir && chdir(spec->workdir)))
		goto fail;
	if (spec->envp)
		execve(spec->path, spec->argv, spec->envp);
	else
		execv(spec->path, spec->argv);
fail:
	{
		int e = errno;
		(void)!write(report, &e, sizeof(e));
	}
	_exit(127);
}

struct runner *runner_start(const struct runner_spec *spec, char *err,
			    size_t errlen)
{
	int out[2], errp[2], rep[2], e = 0;
	struct runner *r;
	ssize_t n;

	if (spec->workdir && mkdir_p(spec->workdir, 0700)) {
		snprintf(err, errlen, "cannot create '%s': %s", spec->workdir,
			 strerror(errno));
		return NULL;
	}
	if (pipe2(out, O_CLOEXEC) == -1)
		goto pipe_fail;
	if (pipe2(errp, O_CLOEXEC) == -1) {
		close(out[0]);
		close(out[1]);
		goto pipe_fail;
	}
	if (pipe2(rep, O_CLOEXEC) == -1) {
		close(out[0]);
		close(out[1]);
		close(errp[0]);
		close(errp[1]);
		goto pipe_fail;
	}
	r = xcalloc(1, sizeof(*r));
	r->pid = fork();
	if (r->pid == 0)
		child(spec, out[1], errp[1], rep[1]);
	close(out[1]);
	close(errp[1]);
	close(rep[1]);
	if (r->pid > 0) {
		setpgid(r->pid, r->pid); /* whoever runs first wins */
		do
			n = read(rep[0], &e, sizeof(e));
		while (n == -1 && errno == EINTR);
		if (n == sizeof(e)) { /* exec failed */
			waitpid(r->pid, NULL, 0);
			r->pid = -1;
		}
	} else {
		e = errno;
	}
	close(rep[0]);
	if (r->pid <= 0) {
		snprintf(err, errlen, "cannot run '%s': %s", spec->path,
			 strerror(e));
		close(out[0]);
		close(errp[0]);
		free(r);
		return NULL;
	}
	r->fd[1] = out[0];
	r->fd[2] = errp[0];
	fd_set_nonblock(r->fd[1]);
	fd_set_nonblock(r->fd[2]);
	for (int i = 0; i < 3; i++)
		strbuf_init(&r->partial[i], 0);
	r->started = time_mono_ms();
	r->timeout_ms = spec->timeout_ms;
	r->grace_ms = spec->grace_ms;
	r->redactor = spec->redactor;
	r->why = RUNNER_EXITED;
	return r;
pipe_fail:
	snprintf(err, errlen, "cannot create pipes: %s", strerror(errno));
	return NULL;
}

void runner_set_redactor(struct runner *r, const struct redactor *red)
{
	r->redactor = red;
}

int runner_fd(const struct runner *r, int stream)
{
	return stream == 1 || stream == 2 ? r->fd[stream] : -1;
}

/* How much of a line longer than RUNNER_MAX_LINE goes in the next piece
 * (0: wait for more of it); whole: the line ends at len. */
static size_t piece_len(struct runner *r, int stream, const char *p,
			size_t len, bool whole)
{
	bool drop = false;
	size_t n;

	if (!r->redactor)
		return RUNNER_MAX_LINE;
	n = redact_split(r->redactor, p, len, RUNNER_MAX_LINE,
			 RUNNER_HARD_LINE, whole, &drop);
	r->drop[stream] = drop;
	return n;
}

static void emit_lines(struct runner *r, int stream, runner_line_fn fn,
		       void *ctx, bool eof)
{
	struct strbuf *sb = &r->partial[stream];
	size_t start = 0;
	for (;;) {
		char *nl = memchr(sb->buf + start, '\n', sb->len - start);
		size_t n = nl ? (size_t)(nl - (sb->buf + start))
			      : sb->len - start;
		if (r->drop[stream]) {
			/* the tail of a line whose secret went on too long */
			start += n + (nl ? 1 : 0);
			r->drop[stream] = !nl;
			if (start >= sb->len)
				break;
			continue;
		}
		/* with a redactor, a piece of exactly the maximum must know
		 * the next byte: a secret may go on there */
		if (!nl && n < RUNNER_MAX_LINE + (r->redactor != NULL) &&
		    !(eof && n > 0))
			break;
		if (n > RUNNER_MAX_LINE) {
			size_t cut = piece_len(r, stream, sb->buf + start, n,
					       nl || eof);
			if (!cut)
				break;
			if (cut < n)
				nl = NULL;
			n = cut;
		}
		fn(ctx, stream, sb->buf + start, n);
		start += n + (nl ? 1 : 0);
		if (start >= sb->len)
			break;
	}
	strbuf_remove_front(sb, start);
}

int runner_read(struct runner *r, int stream, runner_line_fn fn, void *ctx)
{
	char buf[65536];
	int fd = runner_fd(r, stream);

	while (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			strbuf_add(&r->partial[stream], buf, (size_t)n);
			emit_lines(r, stream, fn, ctx, false);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		emit_lines(r, stream, fn, ctx, true);
		close(fd);
		r->fd[stream] = -1;
		return n == 0 ? 0 : -1;
	}
	return 0;
}

static void signal_group(struct runner *r, int sig)
{
	if (r->pid > 0 && kill(-r->pid, sig) == -1 && errno == ESRCH)
		kill(r->pid, sig);
}

static void terminate(struct runner *r, int64_t now, enum runner_end why)
{
	if (r->signalled)
		return;
	r->signalled = true;
	r->why = why;
	signal_group(r, SIGTERM);
	r->kill_at = now + r->grace_ms;
}

void runner_cancel(struct runner *r, int64_t now_mono)
{
	terminate(r, now_mono, RUNNER_CANCELLED);
}

static void close_pipes(struct runner *r)
{
	for (int s = 1; s <= 2; s++)
		if (r->fd[s] >= 0) {
			close(r->fd[s]);
			r->fd[s] = -1;
		}
}

bool runner_poll(struct runner *r, int64_t now_mono, int *wait_status,
		 enum runner_end *why)
{
	if (!r->exited_at) {
		if (r->timeout_ms && now_mono - r->started >= r->timeout_ms)
			terminate(r, now_mono, RUNNER_TIMED_OUT);
		if (r->kill_at && now_mono >= r->kill_at) {
			signal_group(r, SIGKILL);
			r->kill_at = 0;
		}
		if (waitpid(r->pid, &r->status, WNOHANG) == r->pid) {
			r->exited_at = now_mono;
			/* Leftover group members (spark-submit's children)
			 * go with it when we asked it to stop. */
			if (r->signalled)
				kill(-r->pid, SIGKILL);
		}
	}
	if (!r->exited_at)
		return false;
	if ((r->fd[1] >= 0 || r->fd[2] >= 0) &&
	    now_mono - r->exited_at < (r->grace_ms > 0 ? r->grace_ms : 1000))
		return false;
	close_pipes(r);
	*wait_status = r->status;
	*why = r->why;
	return true;
}

int64_t runner_next_deadline(const struct runner *r)
{
	int64_t next = INT64_MAX;
	if (r->exited_at)
		return r->exited_at + (r->grace_ms > 0 ? r->grace_ms : 1000);
	if (r->timeout_ms && !r->signalled)
		next = r->started + r->timeout_ms;
	if (r->kill_at && r->kill_at < next)
		next = r->kill_at;
	/* the child's exit is noticed by polling: check often */
	return next < time_mono_ms() + 100 ? next : time_mono_ms() + 100;
}

pid_t runner_pid(const struct runner *r)
{
	return r->pid;
}

void runner_free(struct runner *r)
{
	if (!r)
		return;
	if (!r->exited_at && r->pid > 0) {
		signal_group(r, SIGKILL);
		waitpid(r->pid, NULL, 0);
	}
	close_pipes(r);
	for (int i = 0; i < 3; i++)
		strbuf_release(&r->partial[i]);
	free(r);
}
