#if canImport(Glibc)
import Glibc
#endif

// File access for the model codec, through Glibc (no Foundation, no mmap: a file truncated under
// a mapping would kill the process).

/// The system calls a save goes through. Tests substitute failing ones to prove that a failed
/// save leaves the previous file intact.
struct FileSystemCalls: Sendable {
    var write: @Sendable (Int32, UnsafeRawPointer, Int) -> Int = { Glibc.write($0, $1, $2) }
    var fsync: @Sendable (Int32) -> Int32 = { Glibc.fsync($0) }
    var rename: @Sendable (UnsafePointer<CChar>, UnsafePointer<CChar>) -> Int32 = { Glibc.rename($0, $1) }

    static let system = FileSystemCalls()
}

enum FileIO {
    /// The text of the current `errno`.
    static func errorText(_ code: Int32 = errno) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// Reads a whole regular file of at most `limit` bytes.
    /// - Throws: `.notFound`, `.io` (permission, directory, FIFO, device, read error),
    ///   `.limitExceeded` (larger than `limit`).
    static func readRegularFile(_ path: String, limit: Int) throws -> [UInt8] {
        // O_NONBLOCK: opening a FIFO must not wait for a writer; we refuse non-regular files anyway.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR: throw NNError(.notFound, "no such file: \(path)")
            case EACCES, EPERM: throw NNError(.io, "permission denied: \(path)")
            default: throw NNError(.io, "cannot open \(path): \(errorText(code))")
            }
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw NNError(.io, "cannot stat \(path): \(errorText())") }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw NNError(.io, "\(path) is a directory, not a model file")
        case S_IFIFO: throw NNError(.io, "\(path) is a FIFO (named pipe), not a regular file")
        case S_IFCHR, S_IFBLK: throw NNError(.io, "\(path) is a device, not a regular file")
        case S_IFSOCK: throw NNError(.io, "\(path) is a socket, not a regular file")
        default: throw NNError(.io, "\(path) is not a regular file")
        }
        let size = Int(info.st_size)
        guard size <= limit else {
            throw NNError(.limitExceeded, "\(path) is \(size) bytes; model files are limited to \(limit) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        let got = try bytes.withUnsafeMutableBytes { buffer -> Int in
            var offset = 0
            while offset < size {
                let n = read(fd, buffer.baseAddress! + offset, size - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw NNError(.io, "cannot read \(path): \(errorText())")
                }
                if n == 0 { break }
                offset += n
            }
            return offset
        }
        guard got == size else {
            throw NNError(.io, "\(path) shrank from \(size) to \(got) bytes while it was read")
        }
        return bytes
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync,
    /// rename over `path`, fsync of the directory. On any failure the temporary file is removed
    /// and whatever was at `path` is untouched.
    /// - Throws: `.io` saying which step failed and why (e.g. "No space left on device").
    static func atomicWrite(_ bytes: UnsafeRawBufferPointer, to path: String, calls: FileSystemCalls = .system) throws {
        guard !path.isEmpty else { throw NNError.invalidArgument("the path is empty") }
        let directory = directoryName(path)
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw NNError(.notFound, "cannot save \(path): the directory \(directory) does not exist") }
            throw NNError(.io, "cannot save \(path): cannot create a file in \(directory): \(errorText(code))")
        }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var committed = false
        defer { if !committed { unlink(temporary) } }

        // New files get the usual 0644; an existing file keeps its permissions.
        var existing = stat()
        let mode: mode_t = stat(path, &existing) == 0 ? existing.st_mode & 0o7777 : 0o644
        _ = fchmod(fd, mode)

        var offset = 0
        while offset < bytes.count {
            let n = calls.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                close(fd)
                throw NNError(.io, "cannot save \(path): writing failed: \(errorText(code)); the previous file is unchanged")
            }
            if n == 0 {
                close(fd)
                throw NNError(.io, "cannot save \(path): writing made no progress; the previous file is unchanged")
            }
            offset += n
        }
        if calls.fsync(fd) != 0 {
            let code = errno
            close(fd)
            throw NNError(.io, "cannot save \(path): fsync failed: \(errorText(code)); the previous file is unchanged")
        }
        if close(fd) != 0 {
            throw NNError(.io, "cannot save \(path): closing failed: \(errorText()); the previous file is unchanged")
        }
        guard calls.rename(temporary, path) == 0 else {
            throw NNError(.io, "cannot save \(path): renaming the temporary file failed: \(errorText()); the previous file is unchanged")
        }
        committed = true
        // Make the rename itself durable.
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = calls.fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// The directory part of a path ("." for a bare file name).
    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let head = path[..<slash]
        return head.isEmpty ? "/" : String(head)
    }

    /// Seconds since the Unix epoch.
    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }
}
