/* Sanitizer builds: Criterion's parallel runner keeps one 48-byte block to the end
 * (criterion_run_all_tests); it is not ours. Compiled into each test binary of tests/model
 * and tests/agentrt (a symbol LeakSanitizer looks up, so not from a library). */
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:libcriterion.so\n";
}
