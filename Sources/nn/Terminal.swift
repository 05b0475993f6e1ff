#if canImport(Glibc)
import Glibc
#endif

/// Output helpers: stdout/stderr writing, terminal detection and a monotonic clock.
enum Terminal {
    /// Writes to standard output.
    static func write(_ text: String) { write(text, to: 1) }

    /// Writes to standard error.
    static func error(_ text: String) { write(text, to: 2) }

    /// Writes all of `text` to a file descriptor (retrying short writes; unbuffered, so output
    /// keeps its order across stdout and stderr).
    static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    /// Whether stderr is an interactive terminal (progress then redraws one line in place).
    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

/// Progress of a training run on stderr: one line redrawn in place on a terminal, otherwise a
/// plain line at most every tenth of the run (so logs stay short).
struct ProgressReporter {
    let title: String
    let totalEpochs: Int
    private let interactive = Terminal.stderrIsTerminal
    private var lastDraw = 0.0
    private var lastPlainTenth = -1
    private let started = Terminal.monotonicSeconds()

    init(title: String, totalEpochs: Int) {
        self.title = title
        self.totalEpochs = totalEpochs
    }

    mutating func update(epoch: Int, loss: Float, accuracy: Float?) {
        let now = Terminal.monotonicSeconds()
        let fraction = Double(epoch) / Double(max(totalEpochs, 1))
        let elapsed = now - started
        let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
        let accuracyText = accuracy.map { " acc \(Format.percent($0))" } ?? ""
        let line = "\(title) epoch \(epoch)/\(totalEpochs) loss \(Format.fixed(Double(loss), 4))\(accuracyText)"
        if interactive {
            guard now - lastDraw >= 0.1 || epoch == totalEpochs else { return }
            lastDraw = now
            let width = 20
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            Terminal.error("\r\u{1B}[2K\(bar) \(line) ETA \(Format.fixed(eta, 1))s")
        } else {
            let tenth = Int(fraction * 10)
            guard tenth != lastPlainTenth else { return }
            lastPlainTenth = tenth
            Terminal.error(line + "\n")
        }
    }

    func finish() {
        if interactive { Terminal.error("\r\u{1B}[2K") }
    }
}

/// Number formatting without Foundation.
enum Format {
    /// `value` with `digits` decimals.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return String(value) }
        var scale = 1.0
        for _ in 0 ..< digits { scale *= 10 }
        let rounded = (abs(value) * scale).rounded()
        let integer = Int(rounded / scale)
        let fraction = Int(rounded - Double(integer) * scale)
        var text = (value < 0 && rounded != 0 ? "-" : "") + String(integer)
        if digits > 0 {
            let digitsText = String(fraction)
            text += "." + String(repeating: "0", count: digits - digitsText.count) + digitsText
        }
        return text
    }

    /// A share as a percentage with one decimal: "98.3 %".
    static func percent(_ value: Float) -> String { fixed(Double(value) * 100, 1) + " %" }

    /// Left-aligns `text` in `width` columns.
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Right-aligns `text` in `width` columns.
    static func padLeft(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
