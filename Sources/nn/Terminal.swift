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

extension Format {
    /// A UTC timestamp "2026-12-04 20:43:00 UTC" (0 → "not recorded").
    static func utc(_ seconds: Int64) -> String {
        guard seconds > 0 else { return "not recorded" }
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
    }

    /// A byte count as "7.1 KB", "2.4 MB".
    static func bytes(_ count: Int) -> String {
        if count < 1024 { return "\(count) B" }
        let units = ["KB", "MB", "GB", "TB"]
        var value = Double(count) / 1024, unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return fixed(value, 1) + " " + units[unit]
    }

    /// An integer with thousands separators: 10,703.
    static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// A compact float: up to 4 significant decimals, no trailing zeros.
    static func short(_ value: Float) -> String {
        guard value.isFinite else { return String(value) }
        let v = Double(value)
        if v == 0 { return "0" }
        if abs(v) >= 1e5 || abs(v) < 1e-3 {
            return scientific(v)
        }
        var text = fixed(v, 4)
        while text.contains(".") && (text.hasSuffix("0") || text.hasSuffix(".")) { text.removeLast() }
        return text
    }

    /// Scientific notation with 3 significant digits ("1.23e-05").
    static func scientific(_ v: Double) -> String {
        var exponent = 0
        var mantissa = abs(v)
        while mantissa >= 10 { mantissa /= 10; exponent += 1 }
        while mantissa < 1 { mantissa *= 10; exponent -= 1 }
        let sign = v < 0 ? "-" : ""
        let e = exponent < 0 ? "-" + (abs(exponent) < 10 ? "0" : "") + String(abs(exponent))
                             : "+" + (exponent < 10 ? "0" : "") + String(exponent)
        return sign + fixed(mantissa, 2) + "e" + e
    }

    /// A one-line sparkline of `values` (at most `width` characters, downsampled by averaging).
    static func sparkline(_ values: [Float], width: Int = 40) -> String {
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty else { return "" }
        let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let buckets = min(width, finite.count)
        var samples: [Float] = []
        for b in 0 ..< buckets {
            let start = b * finite.count / buckets, end = max(start + 1, (b + 1) * finite.count / buckets)
            let slice = finite[start ..< end]
            samples.append(slice.reduce(0, +) / Float(slice.count))
        }
        let low = samples.min()!, high = samples.max()!
        let span = high - low
        return String(samples.map { v -> Character in
            let level = span > 0 ? Int(((v - low) / span * 7).rounded()) : 0
            return bars[min(max(level, 0), 7)]
        })
    }
}
