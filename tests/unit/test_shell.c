#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "hv/shell/shell.h"

static char out[65536];
static size_t out_len;
static struct shell sh;
static char last_args[256];

static void capture(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	cr_assert_lt(out_len + n, sizeof(out));
	memcpy(out + out_len, s, n);
	out_len += n;
	out[out_len] = '\0';
}

static int run_echo(struct shell *s, int argc, char **argv)
{
	last_args[0] = '\0';
	for (int i = 0; i < argc; i++) {
		strcat(last_args, argv[i]);
		strcat(last_args, "|");
	}
	sh_printf(s, "args: %d\n", argc);
	return SHELL_OK;
}

static int run_fail(struct shell *s, int argc, char **argv)
{
	(void)argc;
	return sh_error(s, "it failed: %s\nsecond line", argv[0]);
}

static const struct shell_cmd cmds[] = {
	{ .name = "echo", .args = "[WORDS...]", .help = "h", .run = run_echo, .max_args = 5 },
	{ .name = "two", .args = "A B", .help = "h", .run = run_echo, .min_args = 2, .max_args = 2 },
	{ .name = "fail", .args = "", .help = "h", .run = run_fail },
	{ .name = "secret", .args = "", .help = "h", .run = run_echo, .debug_only = true },
};

static void setup(void)
{
	struct shell_io io = { capture, NULL };
	out_len = 0;
	out[0] = '\0';
	shell_init(&sh, cmds, 4, &io, true);
}

static void feed(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		shell_feed(&sh, (unsigned char)s[i]);
}

static void type(const char *s)
{
	feed(s, strlen(s));
}

/* The text after the last echo of a line: what the command printed. */
static const char *reply(void)
{
	return out;
}

TestSuite(shell, .init = setup);

Test(shell, ok_and_error_status_lines)
{
	type("echo a b\r");
	cr_assert(strstr(reply(), "args: 3\r\n") || strstr(reply(), "args: 3\n"));
	cr_assert(strstr(reply(), "\nok\n"), "%s", reply());
	cr_assert_str_eq(last_args, "echo|a|b|");
	out_len = 0;
	type("fail\r");
	cr_assert(strstr(reply(), "error: it failed: fail second line\n"), "%s", reply());
	cr_assert(strstr(reply(), "hv> "), "prompt after error");
}

Test(shell, unknown_commands_and_usage)
{
	type("nope\r");
	cr_assert(strstr(reply(), "error: unknown command 'nope' (try 'help')"), "%s", reply());
	out_len = 0;
	type("two x\r");
	cr_assert(strstr(reply(), "error: usage: two A B"), "%s", reply());
	out_len = 0;
	type("echo 1 2 3 4 5 6\r");
	cr_assert(strstr(reply(), "error: usage: echo"), "%s", reply());
}

Test(shell, debug_commands_need_the_boot_flag)
{
	type("secret\r");
	cr_assert(strstr(reply(), "error: 'secret' is a debug command"), "%s", reply());
	sh.debug_enabled = true;
	out_len = 0;
	type("secret\r");
	cr_assert(strstr(reply(), "\nok\n"), "%s", reply());
}

Test(shell, empty_lines_print_no_status)
{
	type("\r   \r");
	cr_assert_null(strstr(reply(), "ok"));
	cr_assert_null(strstr(reply(), "error"));
}

Test(shell, backspace_and_crlf)
{
	type("echX\bo hi\r\n");
	cr_assert_str_eq(last_args, "echo|hi|");
	type("echo\x7f\x7f\x7f\x7f" "echo z\n");
	cr_assert_str_eq(last_args, "echo|z|");
	cr_assert_eq(sh.commands_run, 2, "CRLF must end one line, not two");
}

Test(shell, overlong_line_is_rejected_whole)
{
	char line[10240];
	memset(line, 'x', sizeof(line));
	memcpy(line, "echo ", 5);
	feed(line, sizeof(line));
	type("\r");
	cr_assert(strstr(reply(), "error: line too long (max 255 characters); line ignored"),
		  "%s", reply() + (out_len > 200 ? out_len - 200 : 0));
	cr_assert_eq(last_args[0], '\0', "an over-long line must not run");
	out_len = 0;
	type("echo after\r");
	cr_assert_str_eq(last_args, "echo|after|");
}

Test(shell, binary_garbage_gets_an_error_and_the_shell_survives)
{
	unsigned char junk[4096];
	unsigned x = 12345;
	for (size_t i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245 + 12345;
		junk[i] = (unsigned char)(x >> 16);
	}
	feed((const char *)junk, sizeof(junk));
	cr_assert_gt(sh.lines_rejected + sh.commands_failed, 0);
	cr_assert_eq(sh.commands_run - sh.commands_failed, 0,
		     "random bytes must not run a command successfully");
	type("\x03"); /* Ctrl-C clears whatever is half typed */
	out_len = 0;
	type("echo alive\r");
	cr_assert_str_eq(last_args, "echo|alive|");
	cr_assert(strstr(reply(), "\nok\n"));
}

Test(shell, control_bytes_in_a_line_reject_it)
{
	type("echo \x04\x9f x\r"); /* neither printable nor editing keys */
	cr_assert(strstr(reply(), "error: line contained 2 invalid bytes; line ignored"), "%s",
		  reply());
	cr_assert_eq(last_args[0], '\0');
}

Test(shell, history_and_cursor_keys)
{
	type("echo one\r");
	type("echo two\r");
	type("\x1b[A\x1b[A\r"); /* up, up: "echo one" */
	cr_assert_str_eq(last_args, "echo|one|");
	type("echo ac\x1b[Db\r"); /* left, insert */
	cr_assert_str_eq(last_args, "echo|abc|");
	type("x\x01" "echo \x05\r"); /* Ctrl-A, type, Ctrl-E */
	cr_assert_str_eq(last_args, "echo|x|");
	type("echo abc def\x17\x17" "zz\r"); /* Ctrl-W twice */
	cr_assert_str_eq(last_args, "echo|zz|", "%s", last_args);
	type("echo gone\x15" "echo kept\r"); /* Ctrl-U */
	cr_assert_str_eq(last_args, "echo|kept|");
	type("echo 12\x1b[D\x1b[3~\r"); /* left, delete */
	cr_assert_str_eq(last_args, "echo|1|");
	type("echo \x1b[15~q\r"); /* an unknown key (F5) is ignored */
	cr_assert_str_eq(last_args, "echo|q|");
}

Test(shell, quoting)
{
	type("echo \"a b\" c\\d \"x\\\"y\"\r");
	cr_assert_str_eq(last_args, "echo|a b|c\\d|x\"y|");
	out_len = 0;
	type("echo \"open\r");
	cr_assert(strstr(reply(), "error: unterminated quote"), "%s", reply());
}

Test(shell, tokenizer_limits)
{
	char buf[256], *argv[4];
	const char *err;

	strcpy(buf, "a b c d e");
	cr_assert_eq(shell_tokenize(buf, argv, 4, &err), -1);
	cr_assert_str_eq(err, "too many arguments");
	strcpy(buf, "   ");
	cr_assert_eq(shell_tokenize(buf, argv, 4, &err), 0);
	strcpy(buf, "x=1 mem=64M");
	char *args[4];
	int n = shell_tokenize(buf, args, 4, &err);
	cr_assert_str_eq(shell_arg_value(n, args, 0, "mem"), "64M");
	cr_assert_null(shell_arg_value(n, args, 0, "me"));
}

static bool hook_calls;
static bool input_hook(void *ctx, unsigned char b)
{
	(void)ctx;
	hook_calls = true;
	return b != 0x1d; /* Ctrl-] detaches */
}

Test(shell, input_hook_takes_bytes_until_it_detaches)
{
	shell_set_input_hook(&sh, input_hook, NULL);
	type("echo ignored\r");
	cr_assert(hook_calls);
	cr_assert_eq(sh.commands_run, 0);
	type("\x1d");
	cr_assert_null(sh.input_hook);
	type("echo back\r");
	cr_assert_str_eq(last_args, "echo|back|");
}

Test(shell, async_output_hides_and_redraws_the_line)
{
	shell_show_prompt(&sh);
	type("ech");
	out_len = 0;
	cr_assert(shell_hide_input(&sh));
	shell_show_input(&sh);
	cr_assert_str_eq(reply(), "\r\x1b[Khv> ech");
}
