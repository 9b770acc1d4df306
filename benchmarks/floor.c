/* The floor of a plugin chain: fork/exec one plugin binary N times with a given stdin and
 * environment, reading its stdout to EOF, as directly as C allows. Prints seconds elapsed.
 * usage: floor PLUGIN N STDIN_FILE [ENV=VALUE ...] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    const char *plugin = argv[1];
    int n = atoi(argv[2]);
    static char input[1 << 20];
    FILE *f = fopen(argv[3], "rb");
    if (!f) return 2;
    size_t len = fread(input, 1, sizeof(input), f);
    fclose(f);
    char **envp = &argv[4];
    char *args[] = {(char *)plugin, NULL};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        int in[2], out[2];
        if (pipe(in) || pipe(out)) return 3;
        pid_t pid = fork();
        if (pid == 0) {
            dup2(in[0], 0); dup2(out[1], 1);
            close(in[0]); close(in[1]); close(out[0]); close(out[1]);
            execve(plugin, args, envp);
            _exit(127);
        }
        close(in[0]); close(out[1]);
        if (write(in[1], input, len) < 0) return 4;
        close(in[1]);
        char buf[65536];
        while (read(out[0], buf, sizeof(buf)) > 0) {}
        close(out[0]);
        int status;
        waitpid(pid, &status, 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.6f\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
