// A Float32 tensor: a shape and one contiguous, row-major buffer that the tensor owns.
//
// Layers keep their parameters, gradients and activations in named Tensors allocated once
// (llm.c style) and reused across steps; hot loops work on raw pointers (`withPointer`), never on
// per-element allocations. Tensor is a final class so a layer can hand out references to its
// buffers (parameters/gradients lists for the optimizer) without copies.

import IMLBase

/// A raw buffer of `Element` that only grows: per-batch arrays that the pieces of a
/// Parallel.forEach write at once (a Swift array may not be mutated from several threads).
public final class GrowingBuffer<Element> {
    public private(set) var pointer = UnsafeMutablePointer<Element>.allocate(capacity: 1)
    private var capacity = 1

    public init() {}
    deinit { pointer.deallocate() }

    /// Room for `count` elements; the contents are unspecified after it grows.
    public func reserve(_ count: Int) {
        guard count > capacity else { return }
        pointer.deallocate()
        pointer = .allocate(capacity: count)
        capacity = count
    }
}

public final class Tensor {
    public private(set) var shape: [Int]
    public private(set) var count: Int
    /// Capacity-managed storage; `count` elements are in use.
    public private(set) var storage: UnsafeMutablePointer<Float>
    private var capacity: Int

    public init(_ shape: [Int], fill: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.capacity = max(count, 1)
        self.storage = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        storage.initialize(repeating: fill, count: capacity)
    }

    public convenience init(_ shape: [Int], values: [Float]) {
        self.init(shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { storage.update(from: $0.baseAddress!, count: count) }
    }

    deinit { storage.deallocate() }

    /// Reuse the buffer for a new shape (e.g. a smaller last batch); grows only when needed.
    /// Contents are unspecified after a resize that grows. A shape of the same rank is written
    /// into the tensor's own shape array, so alternating batch shapes allocate nothing.
    public func resize(_ newShape: [Int]) {
        if newShape == shape { return }
        setCount(newShape.reduce(1, *))
        if newShape.count == shape.count {
            for i in newShape.indices { shape[i] = newShape[i] }
        } else {
            shape = newShape
        }
    }

    /// resize with the dimensions as arguments: no shape array is built unless the rank changes.
    public func resize(_ d0: Int) {
        guard shape.count == 1 else { return resize([d0]) }
        if shape[0] != d0 { setCount(d0); shape[0] = d0 }
    }
    public func resize(_ d0: Int, _ d1: Int) {
        guard shape.count == 2 else { return resize([d0, d1]) }
        if shape[0] != d0 || shape[1] != d1 { setCount(d0 * d1); shape[0] = d0; shape[1] = d1 }
    }
    public func resize(_ d0: Int, _ d1: Int, _ d2: Int) {
        guard shape.count == 3 else { return resize([d0, d1, d2]) }
        if shape[0] != d0 || shape[1] != d1 || shape[2] != d2 {
            setCount(d0 * d1 * d2); shape[0] = d0; shape[1] = d1; shape[2] = d2
        }
    }
    public func resize(_ d0: Int, _ d1: Int, _ d2: Int, _ d3: Int) {
        guard shape.count == 4 else { return resize([d0, d1, d2, d3]) }
        if shape[0] != d0 || shape[1] != d1 || shape[2] != d2 || shape[3] != d3 {
            setCount(d0 * d1 * d2 * d3); shape[0] = d0; shape[1] = d1; shape[2] = d2; shape[3] = d3
        }
    }

    /// Sets the element count, growing the buffer when it is too small.
    private func setCount(_ n: Int) {
        precondition(n >= 0, "negative size \(n)")
        if n > capacity {
            storage.deallocate()
            capacity = n
            storage = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
            storage.initialize(repeating: 0, count: capacity)
        }
        count = n
    }

    public var pointer: UnsafeMutablePointer<Float> { storage }
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: storage, count: count) }

    @inline(__always) public subscript(i: Int) -> Float {
        get { storage[i] }
        set { storage[i] = newValue }
    }

    public var array: [Float] { Array(buffer) }

    public func zero() { storage.update(repeating: 0, count: count) }
    public func fill(_ v: Float) { storage.update(repeating: v, count: count) }

    public func copy(from other: Tensor) {
        precondition(other.count == count, "copy of \(other.shape) into \(shape)")
        storage.update(from: other.storage, count: count)
    }

    public func clone() -> Tensor {
        let t = Tensor(shape)
        t.copy(from: self)
        return t
    }

    // MARK: initialisers (all draw from a caller-owned SeededRandom, so init is reproducible)

    public func fillUniform(_ low: Float, _ high: Float, _ rng: inout SeededRandom) {
        for i in 0..<count { storage[i] = low + (high - low) * rng.uniformFloat() }
    }

    public func fillNormal(mean: Float = 0, std: Float, _ rng: inout SeededRandom) {
        for i in 0..<count { storage[i] = mean + std * Float(rng.normal()) }
    }
}

/// A parameter tensor with its gradient, as the optimizer sees it.
public struct Parameter {
    public let name: String
    public let value: Tensor
    public let grad: Tensor
    public init(_ name: String, _ value: Tensor, _ grad: Tensor) {
        precondition(value.shape == grad.shape)
        self.name = name; self.value = value; self.grad = grad
    }
}

/// a·b, a·a and b·b of two equally long vectors, summed in Double in index order (the gradient
/// alignment compares flattened gradients of ~10^5-10^6 entries; a Float sum would lose digits).
public func dotProducts(_ a: [Float], _ b: [Float]) -> (ab: Double, aa: Double, bb: Double) {
    precondition(a.count == b.count, "dotProducts needs vectors of one length, got \(a.count) and \(b.count)")
    var ab = 0.0, aa = 0.0, bb = 0.0
    a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
            for i in 0..<x.count {
                let u = Double(x[i]), v = Double(y[i])
                ab += u * v; aa += u * u; bb += v * v
            }
        }
    }
    return (ab, aa, bb)
}
