/* A tiny CNI plugin for benchmarks: ADD prints prevResult back (or a fixed result when there is
 * none), every other verb prints nothing. It does the least a real plugin can do, so the time
 * around it is what a runtime library adds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *FIXED = "{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.2/24\"}]}";

int main(void) {
    static char buf[1 << 20];
    size_t len = 0;
    ssize_t n;
    while ((n = read(0, buf + len, sizeof(buf) - 1 - len)) > 0) len += (size_t)n;
    buf[len] = 0;
    const char *cmd = getenv("CNI_COMMAND");
    if (cmd && strcmp(cmd, "VERSION") == 0) {
        fputs("{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.4.0\",\"1.0.0\",\"1.1.0\"]}", stdout);
        return 0;
    }
    if (!cmd || strcmp(cmd, "ADD") != 0) return 0;
    char *p = strstr(buf, "\"prevResult\":");
    if (!p) { fputs(FIXED, stdout); return 0; }
    p += strlen("\"prevResult\":");
    int depth = 0, in_str = 0;
    char *start = p;
    for (; *p; p++) {
        char c = *p;
        if (in_str) { if (c == '\\' && p[1]) p++; else if (c == '"') in_str = 0; continue; }
        if (c == '"') in_str = 1;
        else if (c == '{') depth++;
        else if (c == '}' && --depth == 0) { p++; break; }
    }
    fwrite(start, 1, (size_t)(p - start), stdout);
    return 0;
}
