#if canImport(Glibc)
import Glibc
#endif

/// Runs a program and captures its exit status, stdout and stderr (for the CLI tests).
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum Subprocess {
    /// The directory holding the built products (`nn` sits next to the test bundle).
    static var productsDirectory: String {
        var path = CommandLine.arguments[0]
        // …/.build/debug/nncorePackageTests.xctest → …/.build/debug
        while let slash = path.lastIndex(of: "/") {
            path = String(path[..<slash])
            if !path.hasSuffix(".xctest") { break }
        }
        return path
    }

    static var nn: String { productsDirectory + "/nn" }

    /// Runs `arguments[0]` (searched on PATH when it has no slash) with the rest as arguments.
    static func run(_ arguments: [String], input: String? = nil, directory: String? = nil) -> ProcessResult {
        // Glibc's posix_spawn chdir action is not visible from Swift: let a shell change directory.
        let arguments = directory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] + arguments } ?? arguments
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0], inp: [Int32] = [0, 0]
        pipe(&out); pipe(&err); pipe(&inp)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, inp[0], 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        for fd in out + err + inp { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
        posix_spawn_file_actions_destroy(&actions)
        close(out[1]); close(err[1]); close(inp[0])
        if let input {
            var text = input
            text.withUTF8 { _ = write(inp[1], $0.baseAddress, $0.count) }
        }
        close(inp[1])
        guard spawned == 0 else {
            close(out[0]); close(err[0])
            return ProcessResult(status: -1, stdout: "", stderr: "cannot start \(arguments[0]): error \(spawned)")
        }
        // Drain both pipes (stderr on a helper thread would be overkill: read alternately with poll).
        var stdoutBytes: [UInt8] = [], stderrBytes: [UInt8] = []
        var fds = [pollfd(fd: out[0], events: Int16(POLLIN), revents: 0), pollfd(fd: err[0], events: Int16(POLLIN), revents: 0)]
        var open = 2
        var buffer = [UInt8](repeating: 0, count: 65536)
        while open > 0 {
            poll(&fds, 2, -1)
            for i in 0 ..< 2 where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = read(fds[i].fd, &buffer, buffer.count)
                if n > 0 {
                    if i == 0 { stdoutBytes += buffer[0 ..< n] } else { stderrBytes += buffer[0 ..< n] }
                } else {
                    close(fds[i].fd); fds[i].fd = -1; open -= 1
                }
            }
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return ProcessResult(status: code, stdout: String(decoding: stdoutBytes, as: UTF8.self),
                             stderr: String(decoding: stderrBytes, as: UTF8.self))
    }
}
