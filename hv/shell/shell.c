#include "hv/shell/shell.h"

#include "hv/lib/format.h"
#include "hv/lib/string.h"

static void echo_out(void *ctx, const char *s, size_t n)
{
	struct shell *sh = ctx;

	sh->io.write(sh->io.ctx, s, n);
}

void shell_init(struct shell *sh, const struct shell_cmd *cmds, size_t ncmds,
		const struct shell_io *io, bool echo)
{
	memset(sh, 0, sizeof(*sh));
	sh->cmds = cmds;
	sh->ncmds = ncmds;
	sh->io = *io;
	line_init(&sh->le, echo_out, sh, echo);
}

void sh_write(struct shell *sh, const char *s, size_t n)
{
	sh->io.write(sh->io.ctx, s, n);
}

static void fmt_sink(char c, void *ctx)
{
	sh_write(ctx, &c, 1);
}

void sh_vprintf(struct shell *sh, const char *fmt, va_list ap)
{
	fmt_vformat(fmt_sink, sh, fmt, ap);
}

void sh_printf(struct shell *sh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sh_vprintf(sh, fmt, ap);
	va_end(ap);
}

int sh_error(struct shell *sh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(sh->error, sizeof(sh->error), fmt, ap);
	va_end(ap);
	/* The status line must stay one line. */
	for (char *p = sh->error; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	sh->failed = true;
	return SHELL_FAILED;
}

void shell_show_prompt(struct shell *sh)
{
	sh_write(sh, SHELL_PROMPT, sizeof(SHELL_PROMPT) - 1);
	sh->prompt_shown = true;
}

bool shell_hide_input(struct shell *sh)
{
	if (!sh->prompt_shown || sh->running || sh->input_hook)
		return false;
	/* Carriage return, then erase to end of line (ANSI EL). */
	sh_write(sh, "\r\x1b[K", 4);
	return true;
}

void shell_show_input(struct shell *sh)
{
	if (!sh->prompt_shown || sh->running || sh->input_hook)
		return;
	sh_write(sh, SHELL_PROMPT, sizeof(SHELL_PROMPT) - 1);
	line_redraw(&sh->le);
}

void shell_set_input_hook(struct shell *sh, shell_input_hook hook, void *ctx)
{
	sh->input_hook = hook;
	sh->input_ctx = ctx;
}

const struct shell_cmd *shell_find(const struct shell *sh, const char *name)
{
	for (size_t i = 0; i < sh->ncmds; i++)
		if (!strcmp(sh->cmds[i].name, name))
			return &sh->cmds[i];
	return NULL;
}

int shell_tokenize(char *buf, char **argv, int max, const char **err)
{
	int argc = 0;
	char *r = buf, *w = buf;

	*err = NULL;
	for (;;) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (!*r)
			break;
		if (argc == max) {
			*err = "too many arguments";
			return -1;
		}
		argv[argc++] = w;
		bool quoted = false;
		while (*r && (quoted || (*r != ' ' && *r != '\t'))) {
			if (*r == '"') {
				quoted = !quoted;
				r++;
			} else if (quoted && *r == '\\' && (r[1] == '"' || r[1] == '\\')) {
				*w++ = r[1];
				r += 2;
			} else {
				*w++ = *r++;
			}
		}
		if (quoted) {
			*err = "unterminated quote";
			return -1;
		}
		bool more = *r != '\0';
		*w++ = '\0';
		if (more)
			r++;
		if (!more)
			break;
	}
	return argc;
}

const char *shell_arg_value(int argc, char **argv, int from, const char *key)
{
	size_t klen = strlen(key);

	for (int i = from; i < argc; i++)
		if (!strncmp(argv[i], key, klen) && argv[i][klen] == '=')
			return argv[i] + klen + 1;
	return NULL;
}

static void finish(struct shell *sh, int rc)
{
	sh->commands_run++;
	if (rc != SHELL_OK || sh->failed) {
		sh->commands_failed++;
		if (!sh->error[0])
			str_copy(sh->error, "command failed", sizeof(sh->error));
		sh_printf(sh, "error: %s\n", sh->error);
	} else {
		sh_write(sh, "ok\n", 3);
	}
}

static int run_words(struct shell *sh, int argc, char **argv)
{
	const struct shell_cmd *cmd = shell_find(sh, argv[0]);

	if (!cmd)
		return sh_error(sh, "unknown command '%.40s' (try 'help')", argv[0]);
	if (cmd->debug_only && !sh->debug_enabled)
		return sh_error(sh, "'%s' is a debug command; boot with debug=1 to enable it",
				cmd->name);
	if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args)
		return sh_error(sh, "usage: %s %s", cmd->name, cmd->args);
	return cmd->run(sh, argc, argv);
}

int shell_execute(struct shell *sh, const char *line)
{
	char buf[LINE_MAX_CHARS + 1];
	char *argv[SHELL_MAX_ARGS];
	const char *err;
	int rc;

	sh->failed = false;
	sh->error[0] = '\0';
	if (strlen(line) > LINE_MAX_CHARS) {
		rc = sh_error(sh, "line too long (max %d characters)", LINE_MAX_CHARS);
	} else {
		str_copy(buf, line, sizeof(buf));
		int argc = shell_tokenize(buf, argv, SHELL_MAX_ARGS, &err);
		if (argc == 0)
			return SHELL_OK; /* empty line: no status */
		sh->running = true;
		rc = argc < 0 ? sh_error(sh, "%s", err) : run_words(sh, argc, argv);
		sh->running = false;
	}
	finish(sh, rc);
	return sh->failed || rc != SHELL_OK ? SHELL_FAILED : SHELL_OK;
}

static void reject_line(struct shell *sh, const char *fmt, size_t n)
{
	sh->failed = false;
	sh->lines_rejected++;
	sh_error(sh, fmt, n);
	finish(sh, SHELL_FAILED);
}

void shell_feed(struct shell *sh, unsigned char byte)
{
	if (sh->input_hook) {
		if (sh->input_hook(sh->input_ctx, byte))
			return;
		sh->input_hook = NULL;
		shell_show_prompt(sh);
		return;
	}

	enum line_event ev = line_feed(&sh->le, byte);
	if (ev == LINE_NONE)
		return;
	sh->prompt_shown = false;
	if (ev == LINE_READY) {
		if (sh->le.overflow)
			reject_line(sh, "line too long (max %zu characters); line ignored",
				    (size_t)LINE_MAX_CHARS);
		else if (sh->le.dropped)
			reject_line(sh, "line contained %zu invalid bytes; line ignored",
				    sh->le.dropped);
		else {
			line_remember(&sh->le);
			shell_execute(sh, sh->le.text);
		}
	}
	line_reset(&sh->le);
	if (!sh->input_hook)
		shell_show_prompt(sh);
}
