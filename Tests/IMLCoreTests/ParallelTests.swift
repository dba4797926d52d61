import Foundation
import IMLBase
@testable import IMLCore
import XCTest

/// The work-sharing pool: every piece runs once, slots are never shared at once, and every layer
/// that splits its work gives the same bits with helpers as alone.
final class ParallelTests: XCTestCase {
    /// Runs `body` with `helpers` threads serving Parallel (and the slots for them), then stops them.
    func withHelpers<T>(_ helpers: Int, _ body: () throws -> T) rethrows -> T {
        Parallel.configure(cores: helpers + 1)
        defer { Parallel.configure(cores: 1) }
        guard helpers > 0 else { return try body() }
        let stop = StopSignal()
        let group = DispatchGroup()
        for _ in 0..<helpers {
            group.enter()
            Thread {
                Parallel.serve(until: { stop.isSet })
                group.leave()
            }.start()
        }
        while Parallel.helpersServing < helpers { usleep(100) }
        defer {
            stop.set()
            group.wait()
        }
        return try body()
    }

    func testEveryPieceRunsOnceAndNoTwoPiecesShareASlotAtOnce() {
        withHelpers(3) {
            for count in [0, 1, 2, 7, 64, 1000] {
                let runs = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
                runs.initialize(repeating: 0, count: max(1, count))
                defer { runs.deallocate() }
                let lock = NSLock()
                var busy = Set<Int>(), clash = false, slots = Set<Int>()
                Parallel.forEach(count) { piece, slot in
                    lock.lock()
                    if busy.contains(slot) { clash = true }
                    busy.insert(slot); slots.insert(slot)
                    lock.unlock()
                    runs[piece] += 1
                    usleep(count > 100 ? 0 : 200)
                    lock.lock(); busy.remove(slot); lock.unlock()
                }
                XCTAssertEqual((0..<count).filter { runs[$0] != 1 }, [], "\(count) pieces")
                XCTAssertFalse(clash, "two pieces ran with the same slot at once")
                XCTAssertTrue(slots.allSatisfy { (0..<Parallel.maxSlots).contains($0) }, "slots \(slots)")
                if count == 64 { XCTAssertGreaterThan(slots.count, 1, "the helpers took no piece of 64 slow ones") }
            }
        }
    }

    /// runWorkers starts cores + items % cores bodies when items outnumber cores (so the items end
    /// in whole rounds), one per item otherwise, and never lets running bodies plus helpers
    /// exceed the cores.
    func testRunWorkersEndsInWholeRoundsAndNeverOversubscribesWithHelpers() {
        for (items, cores, expectedAtOnce) in [(5, 2, 3), (4, 2, 2), (3, 2, 3), (1, 2, 1), (7, 3, 4), (2, 4, 2)] {
            let lock = NSLock()
            var next = 0, done = [Int](), running = 0, mostAtOnce = 0, overload = [String]()
            Parallel.runWorkers(items, cores: cores) { _ in
                while true {
                    lock.lock()
                    guard next < items else { lock.unlock(); return }
                    let item = next
                    next += 1
                    running += 1
                    mostAtOnce = max(mostAtOnce, running)
                    lock.unlock()
                    // Long enough that every thread has started and any helper has joined.
                    for _ in 0..<20 {
                        usleep(1000)
                        lock.lock()
                        if running + Parallel.helpersServing > max(cores, running) {
                            overload.append("\(running) running + \(Parallel.helpersServing) helpers")
                        }
                        lock.unlock()
                    }
                    lock.lock(); running -= 1; done.append(item); lock.unlock()
                }
            }
            Parallel.configure(cores: 1)
            let label = "\(items) items on \(cores) cores"
            XCTAssertEqual(done.sorted(), Array(0..<items), label)
            XCTAssertEqual(mostAtOnce, expectedAtOnce, label)
            XCTAssertEqual(overload, [], label)
            XCTAssertEqual(Parallel.helpersServing, 0, "\(label): a helper outlived runWorkers")
        }
    }

    func testRowBlocksAreMultiplesOf12AndCoverTheRows() {
        for rows in [1, 11, 12, 64, 100, 256, 1024, 1037] {
            let blocks = RowBlocks(rows: rows)
            XCTAssertEqual(blocks.size % 12, 0)
            XCTAssertEqual((0..<blocks.count).flatMap { Array(blocks.range($0)) }, Array(0..<rows))
            XCTAssertLessThanOrEqual(blocks.count, 8)
        }
    }

    /// One forward, backward and Adam step through every layer that splits its work, returning
    /// every output, gradient and updated weight.
    func step(seed: UInt64) -> [[Float]] {
        var rng = SeededRandom(seed: seed)
        var out: [[Float]] = []
        func values(_ t: Tensor) -> [Float] { (0..<t.count).map { t[$0] } }
        // Both conv paths: one gemm per product (1 input channel) and one per kernel column (12).
        for (inChannels, needsInputGradient) in [(1, false), (12, true)] {
            let conv = ConvPoolReLU(inChannels: inChannels, outChannels: 16, needsInputGradient: needsInputGradient, rng: &rng)
            let x = CoreFixtures.random([20, inChannels, 10, 9], &rng)
            let y = conv.forward(x)
            let dx = conv.backward(CoreFixtures.random(y.shape, &rng))
            out += [values(y), values(dx), values(conv.weightGrad), values(conv.biasGrad)]
        }
        let linear = Linear(inFeatures: 50, outFeatures: 40, rng: &rng)
        let y = linear.forward(CoreFixtures.random([100, 50], &rng))
        let dx = linear.backward(CoreFixtures.random(y.shape, &rng))
        out += [values(y), values(dx), values(linear.weightGrad), values(linear.biasGrad)]

        let block = TransformerBlock(dim: 32, heads: 4, rng: &rng)
        let h = block.forward(CoreFixtures.random([9, 7, 32], &rng))
        let loss = SoftmaxCrossEntropy()
        let targets: [Int32] = (0..<63).map { (i: Int) -> Int32 in i % 5 == 0 ? -1 : Int32(i % 32) }
        let value = loss.forward(logits: h, classes: 32, targets: targets)
        let dh = block.backward(loss.backward())
        out += [[value], values(h), values(dh)]
        for p in block.parameters { out.append(values(p.grad)) }
        let adam = Adam(parameters: block.parameters + linear.parameters, lr: 1e-2)
        adam.step()
        for p in block.parameters + linear.parameters { out.append(values(p.value)) }
        return out
    }

    func testLayersGiveTheSameBitsWhateverTheThreadCount() {
        let alone = withHelpers(0) { step(seed: 7) }
        for helpers in [1, 3] {
            let shared = withHelpers(helpers) { step(seed: 7) }
            XCTAssertEqual(alone.count, shared.count)
            for (index, (a, b)) in zip(alone, shared).enumerated() {
                XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "array \(index) differs with \(helpers) helper(s)")
            }
        }
    }
}

private final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
