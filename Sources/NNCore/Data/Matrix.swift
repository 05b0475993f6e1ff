/// A dense row-major matrix of `Float`: `rows` samples × `cols` values.
///
/// The unit of data exchanged with the Swift API (inputs, outputs, targets). A value type.
public struct Matrix: Equatable, Sendable {
    /// Number of rows (samples).
    public let rows: Int
    /// Number of columns (values per sample).
    public let cols: Int
    /// `rows × cols` values, row after row.
    public var values: [Float]

    /// Creates a matrix from row-major values.
    /// - Throws: `NNError` `.shapeMismatch` when `values.count != rows × cols`,
    ///   `.invalidArgument` for a negative dimension.
    public init(rows: Int, cols: Int, values: [Float]) throws {
        guard rows >= 0, cols >= 0 else {
            throw NNError.invalidArgument("matrix dimensions must not be negative, got \(rows) × \(cols)")
        }
        let count = try checkedProduct(rows, cols, "matrix size")
        guard values.count == count else {
            throw NNError.shapeMismatch("a \(rows) × \(cols) matrix needs \(count) values, got \(values.count)")
        }
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    /// Creates a matrix from an array of equally long rows.
    /// - Throws: `NNError` `.shapeMismatch` when the rows differ in length.
    public init(_ rowArrays: [[Float]]) throws {
        let cols = rowArrays.first?.count ?? 0
        var values: [Float] = []
        values.reserveCapacity(rowArrays.count * cols)
        for (index, row) in rowArrays.enumerated() {
            guard row.count == cols else {
                throw NNError.shapeMismatch("row \(index) has \(row.count) values, row 0 has \(cols)")
            }
            values.append(contentsOf: row)
        }
        self.rows = rowArrays.count
        self.cols = cols
        self.values = values
    }

    /// A matrix filled with `value`.
    /// - Throws: `.invalidArgument` for a negative dimension, `.limitExceeded` for an impossible size.
    public init(rows: Int, cols: Int, repeating value: Float = 0) throws {
        guard rows >= 0, cols >= 0 else {
            throw NNError.invalidArgument("matrix dimensions must not be negative, got \(rows) × \(cols)")
        }
        let count = try checkedProduct(rows, cols, "matrix size")
        self.rows = rows
        self.cols = cols
        self.values = Array(repeating: value, count: count)
    }

    /// The element at (`row`, `col`). Like `Array`'s subscript, an index out of range is a
    /// programming error that stops the program; check `rows` and `cols` first.
    public subscript(row: Int, col: Int) -> Float {
        get { values[row * cols + col] }
        set { values[row * cols + col] = newValue }
    }

    /// One row as an array (the index must be in 0..<rows, as for `Array`).
    public func row(_ index: Int) -> [Float] { Array(values[index * cols ..< (index + 1) * cols]) }
}
