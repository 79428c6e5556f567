/* The payload every start-up command runs: static, so no init is charged for the dynamic
 * loader of the command it starts. */
int main(void) { return 0; }
