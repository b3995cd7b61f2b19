/* The console shell: reads lines, runs commands, ends every command's
 * output with one status line that scripts can rely on:
 *
 *     ok
 *     error: <reason>
 *
 * and then prints the prompt "hv> ". Commands are rows of a table, so the
 * core is the same for hv.efi and the hosted unit tests. */
#ifndef HV_SHELL_SHELL_H
#define HV_SHELL_SHELL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/shell/lineedit.h"

#define SHELL_PROMPT "hv> "
#define SHELL_MAX_ARGS 24
#define SHELL_ERROR_MAX 200

struct shell;

/* A command returns SHELL_OK, or the value of sh_error(). */
enum { SHELL_OK = 0, SHELL_FAILED = -1 };

struct shell_cmd {
	const char *name;
	const char *args;  /* synopsis of the arguments, "" if none */
	const char *help;  /* one line */
	int (*run)(struct shell *sh, int argc, char **argv);
	uint8_t min_args, max_args; /* bounds on argc - 1 */
	bool debug_only;   /* needs debug=1 at boot */
};

struct shell_io {
	void (*write)(void *ctx, const char *s, size_t n);
	void *ctx;
};

/* While set, input bytes go to this hook instead of the line editor (e.g.
 * `vm console` attaching to a guest). The hook returns false to detach. */
typedef bool (*shell_input_hook)(void *ctx, unsigned char byte);

struct shell {
	const struct shell_cmd *cmds;
	size_t ncmds;
	struct shell_io io;
	struct line_editor le;
	bool prompt_shown;
	bool running;        /* a command is executing */
	bool debug_enabled;
	bool failed;
	char error[SHELL_ERROR_MAX];
	uint64_t commands_run, commands_failed, lines_rejected;
	shell_input_hook input_hook;
	void *input_ctx;
	void *owner;         /* for commands: the environment they act on */
};

void shell_init(struct shell *sh, const struct shell_cmd *cmds, size_t ncmds,
		const struct shell_io *io, bool echo);
void shell_feed(struct shell *sh, unsigned char byte);
/* Runs one command line as if typed; returns SHELL_OK or SHELL_FAILED. */
int shell_execute(struct shell *sh, const char *line);
void shell_show_prompt(struct shell *sh);

/* Async output support (see console.h). */
bool shell_hide_input(struct shell *sh);
void shell_show_input(struct shell *sh);

void shell_set_input_hook(struct shell *sh, shell_input_hook hook, void *ctx);

/* For commands. */
void sh_write(struct shell *sh, const char *s, size_t n);
void sh_printf(struct shell *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sh_vprintf(struct shell *sh, const char *fmt, va_list ap);
int sh_error(struct shell *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const struct shell_cmd *shell_find(const struct shell *sh, const char *name);

/* Splits a line into words: blanks separate, "double quotes" group, \" and
 * \\ escape inside quotes. Writes into buf (modified in place). Returns the
 * word count, or -1 with *err set on an unterminated quote or too many
 * words. */
int shell_tokenize(char *buf, char **argv, int max, const char **err);

/* "key=value" argument helpers: the value of key in argv[from..argc), or
 * NULL. */
const char *shell_arg_value(int argc, char **argv, int from, const char *key);

#endif
