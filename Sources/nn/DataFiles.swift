import NNCore
#if canImport(Glibc)
import Glibc
#endif

/// A table read from CSV or .npy: numeric feature columns plus, optionally, a target column
/// kept as text (so class labels may be strings).
struct Table {
    var columnNames: [String]
    /// rows × columns cells as text (CSV) — numbers for .npy are formatted back losslessly.
    var cells: [[String]]
    var rowCount: Int { cells.count }
}

enum DataFiles {
    static func readText(_ path: String) throws -> String {
        guard let file = fopen(path, "rb") else {
            throw NNError(errno == ENOENT ? .notFound : .io, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n > 0 { bytes.append(contentsOf: chunk[0 ..< n]) }
            if n < chunk.count {
                if ferror(file) != 0 { throw NNError(.io, "cannot read \(path)") }
                break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func readBytes(_ path: String) throws -> [UInt8] {
        Array(try readText(path).utf8)
    }

    /// Reads CSV (comma-separated, optional header row, "quoted" fields) or .npy.
    static func readTable(_ path: String) throws -> Table {
        if path.hasSuffix(".npy") { return try readNumpy(path) }
        let text = try readText(path)
        var rows: [[String]] = []
        for (number, line) in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let trimmed = line.trimmingCharacters(in: " \r")
            if trimmed.isEmpty { continue }
            rows.append(try splitCSV(trimmed, line: number + 1, path: path))
        }
        guard let first = rows.first else { throw NNError(.emptyData, "\(path) has no rows") }
        for (i, row) in rows.enumerated() where row.count != first.count {
            throw NNError.invalidArgument("\(path): row \(i + 1) has \(row.count) fields, the first row has \(first.count)")
        }
        // A header row: the first row has a field that is not a number while the second row's is.
        var names = (0 ..< first.count).map { "column\($0)" }
        if rows.count > 1, first.indices.contains(where: { Float(first[$0]) == nil && Float(rows[1][$0]) != nil })
            || (rows.count > 1 && first.allSatisfy { Float($0) == nil } && !rows[1].allSatisfy { Float($0) == nil }) {
            names = first
            rows.removeFirst()
        }
        return Table(columnNames: names, cells: rows)
    }

    private static func splitCSV(_ line: String, line number: Int, path: String) throws -> [String] {
        var fields: [String] = [], field = "", quoted = false, index = line.startIndex
        while index < line.endIndex {
            let ch = line[index]
            if quoted {
                if ch == "\"" {
                    let next = line.index(after: index)
                    if next < line.endIndex && line[next] == "\"" { field.append("\""); index = next } else { quoted = false }
                } else { field.append(ch) }
            } else if ch == "\"" {
                quoted = true
            } else if ch == "," {
                fields.append(field.trimmingCharacters(in: " ")); field = ""
            } else {
                field.append(ch)
            }
            index = line.index(after: index)
        }
        if quoted { throw NNError.invalidArgument("\(path): line \(number) has an unterminated quote") }
        fields.append(field.trimmingCharacters(in: " "))
        return fields
    }

    /// A NumPy .npy file (format 1.0/2.0/3.0; little-endian f4, f8, i4, i8; 1-D or 2-D, C order).
    static func readNumpy(_ path: String) throws -> Table {
        let bytes = try readBytes(path)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1 ... 5]) == Array("NUMPY".utf8) else {
            throw NNError.invalidArgument("\(path) is not a NumPy .npy file")
        }
        let major = bytes[6]
        let headerLength: Int, start: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; start = 10
        } else {
            guard bytes.count >= 12 else { throw NNError.invalidArgument("\(path): truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; start = 12
        }
        guard start + headerLength <= bytes.count else { throw NNError.invalidArgument("\(path): truncated .npy header") }
        let header = String(decoding: bytes[start ..< start + headerLength], as: UTF8.self)
        func value(_ key: String) -> String? {
            guard let end = header.endOfFirst("'\(key)':") else { return nil }
            return String(header[end...]).trimmingCharacters(in: " ")
        }
        guard let descr = value("descr"), let shapeText = value("shape") else {
            throw NNError.invalidArgument("\(path): the .npy header lacks descr or shape")
        }
        if let order = value("fortran_order"), order.hasPrefix("True") {
            throw NNError.invalidArgument("\(path): Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
        }
        let type = String(descr.dropFirst().prefix(while: { $0 != "'" }))
        let width: Int
        switch type {
        case "<f4", "<i4": width = 4
        case "<f8", "<i8": width = 8
        default: throw NNError.invalidArgument("\(path): dtype \(type) is not supported (use float32, float64, int32 or int64)")
        }
        let inner = shapeText.dropFirst().prefix(while: { $0 != ")" })
        let dims = inner.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: " ")) }
        guard dims.count == 1 || dims.count == 2 else { throw NNError.invalidArgument("\(path): only 1-D and 2-D arrays are supported") }
        let rows = dims[0], cols = dims.count == 2 ? dims[1] : 1
        let dataStart = start + headerLength
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        guard !overflow, dataStart + count * width <= bytes.count else {
            throw NNError.invalidArgument("\(path): the data is shorter than its shape \(dims) says")
        }
        var cells: [[String]] = []
        cells.reserveCapacity(rows)
        for r in 0 ..< rows {
            var row: [String] = []
            for c in 0 ..< cols {
                let offset = dataStart + (r * cols + c) * width
                var raw: UInt64 = 0
                for k in 0 ..< width { raw |= UInt64(bytes[offset + k]) << (8 * UInt64(k)) }
                switch type {
                case "<f4": row.append(String(Float(bitPattern: UInt32(truncatingIfNeeded: raw))))
                case "<f8": row.append(String(Double(bitPattern: raw)))
                case "<i4": row.append(String(Int32(bitPattern: UInt32(truncatingIfNeeded: raw))))
                default: row.append(String(Int64(bitPattern: raw)))
                }
            }
            cells.append(row)
        }
        return Table(columnNames: (0 ..< cols).map { "column\($0)" }, cells: cells)
    }

    /// The index of the target column: a name, a 0-based index, or the last column.
    static func targetColumn(_ spec: String?, in table: Table) throws -> Int {
        guard let spec else { return table.columnNames.count - 1 }
        if let index = table.columnNames.firstIndex(of: spec) { return index }
        if let index = Int(spec), index >= 0, index < table.columnNames.count { return index }
        if let index = Int(spec), index < 0, -index <= table.columnNames.count { return table.columnNames.count + index }
        throw UsageError(message: "--target '\(spec)' names no column; columns: \(table.columnNames.joined(separator: ", "))")
    }

    /// The numeric columns other than `skip` as a matrix.
    static func features(_ table: Table, skipping skip: Int?, path: String) throws -> Matrix {
        let columns = table.columnNames.indices.filter { $0 != skip }
        var values: [Float] = []
        values.reserveCapacity(table.rowCount * columns.count)
        for (r, row) in table.cells.enumerated() {
            for c in columns {
                guard let v = Float(row[c]) else {
                    throw NNError.invalidArgument("\(path): row \(r + 1), column '\(table.columnNames[c])' is '\(row[c])', not a number")
                }
                values.append(v)
            }
        }
        return try Matrix(rows: table.rowCount, cols: columns.count, values: values)
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

extension String {
    /// The index just past the first occurrence of `needle`, or nil.
    func endOfFirst(_ needle: String) -> String.Index? {
        guard !needle.isEmpty else { return startIndex }
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(needle) { return self.index(index, offsetBy: needle.count) }
            index = self.index(after: index)
        }
        return nil
    }
}
