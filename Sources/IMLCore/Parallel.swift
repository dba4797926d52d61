// Work sharing inside a training step, with numbers that do not depend on the thread count.
//
// A layer splits its work into pieces fixed by the shapes alone (the images of a batch, blocks of
// rows of a product, chunks of the parameters) and calls
//
//   Parallel.forEach(pieces) { piece, slot in ... }
//
// Each piece writes only its own outputs and does the same arithmetic whichever thread runs it,
// so a step gives the same bits on 1 thread or on 8. `slot` (0..<Parallel.maxSlots) names the
// scratch buffers a piece may use: no two pieces run at once with the same slot.
//
// Threads: the caller (a seed's training thread) always works on its own pieces. Helpers are
// threads lent through Parallel.serve(until:): runWorkers (which runs the seeds of a run, or of
// an analysis) lends every core that no worker occupies, and every worker that runs out of
// work, so idle cores go to the seeds still training. With no helper serving,
// forEach runs the pieces in order on the caller.

import CAtomics
import Foundation
import Glibc
import IMLBase

public enum Parallel {
    /// The most threads that can work on one forEach (its caller and the helpers); layers size
    /// their per-slot scratch buffers by it. Set by `configure(cores:)`.
    // nonisolated(unsafe): only configure(cores:) writes it, and its callers (runWorkers, before it
    // starts its threads; iml-bench, before it starts its helpers) call it from one thread while no
    // forEach runs; the threads they start read it after Thread.start, which orders the write first.
    nonisolated(unsafe) public private(set) static var maxSlots = 1

    /// Sets how many threads may work at once in this process (seed threads plus helpers). Call
    /// before training starts, from one thread.
    public static func configure(cores: Int) { maxSlots = max(1, cores) }

    /// Runs `body(piece, slot)` for every piece in 0..<count, on the caller and any idle helpers,
    /// and returns when all pieces are done.
    @inline(__always)
    public static func forEach(_ count: Int, _ body: (_ piece: Int, _ slot: Int) -> Void) {
        if count <= 1 || runsAlone {
            for piece in 0..<count { body(piece, 0) }
            return
        }
        withoutActuallyEscaping(body) { board.run(count: count, body: $0) }
    }

    /// `body(rows)` for every block of `blocks`, as pieces.
    @inline(__always)
    public static func forEach(_ blocks: RowBlocks, _ body: (_ rows: Range<Int>) -> Void) {
        forEach(blocks.count) { block, _ in body(blocks.range(block)) }
    }

    /// True when no helper serves, so a forEach would run its pieces in order on the caller: a
    /// layer may then take a fused path that does the same arithmetic in fewer passes.
    public static var runsAlone: Bool { !board.hasHelpers }

    /// Element-wise work over 0..<count in chunks of 16K elements: `body(range)` per chunk.
    /// (Element-wise work gives the same bits however it is split.)
    @inline(__always)
    public static func forEachChunk(_ count: Int, _ body: (Range<Int>) -> Void) {
        let chunk = 1 << 14
        forEach((count + chunk - 1) / chunk) { piece, _ in body(piece * chunk ..< min(count, (piece + 1) * chunk)) }
    }

    /// Runs `body(worker)` on enough threads for `items` work items that the bodies share (each
    /// body takes items until none is left), with one BLAS thread each, and lends idle cores to
    /// the bodies still running; returns when every body has. How seeds (SeedRunner) and
    /// analyses share a machine.
    ///
    /// With more items than cores, `cores + items % cores` bodies start at once, so the items
    /// finish in whole rounds: 5 seeds on 2 cores run as 3 at once (the OS shares the two cores
    /// among them, which costs next to nothing for one-thread seeds), then 2, in 2.5 rounds of
    /// one seed's time; one per core, the fifth seed would train alone with the other core
    /// helping it, 2 + 1/1.7 = 2.6 rounds. Every core no body occupies, and every thread whose
    /// body has returned, serves the pool, but never more helpers than `cores` minus the bodies
    /// still running: a helper on a busy core would make the bodies wait for its pieces.
    public static func runWorkers(_ items: Int, cores: Int, _ body: @escaping (_ worker: Int) -> Void) {
        let cores = max(1, cores), items = max(1, items)
        let workers = items <= cores ? items : cores + items % cores
        BLAS.setThreads(1)
        configure(cores: cores)
        let running = RunningWorkers(workers, cores: cores)
        // nonisolated(unsafe): running `body` on several threads at once is this function's
        // contract (above); what the bodies share, their callers synchronise (SeedRunner's
        // SharedWork, ModelAnalysis's Counter and ResultSlots). The parameter is not @Sendable
        // because those closures also capture values that are not Sendable as types.
        nonisolated(unsafe) let body = body
        let group = DispatchGroup()
        for index in 0..<max(workers, cores) {
            group.enter()
            let thread = Thread {
                if index < workers {
                    body(index)
                    running.finish()
                }
                if running.waitForTurnToServe() { serve(until: { running.none }) }
                group.leave()
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
        group.wait()
    }

    /// Refuses a thread count below 1, or so far above the machine's cores that its threads (16 MB
    /// of stack each) may not be creatable: a thread that never starts would be waited for for ever.
    public static func checkThreads(_ threads: Int, option: String = "--threads") throws {
        if threads < 1 { throw IMLError("\(option) must be at least 1 (got \(threads)).") }
        let cores = ProcessInfo.processInfo.activeProcessorCount, most = 4 * max(1, cores)
        if threads > most {
            throw IMLError("\(option) \(threads) is more than this machine's \(cores) core\(cores == 1 ? "" : "s") can use (at most \(most), four per core); give at most \(most), or leave it out to use every core.")
        }
    }

    /// Lends the calling thread to other threads' forEach calls until `done()` returns true
    /// (checked at least every few milliseconds).
    public static func serve(until done: () -> Bool) { board.serve(until: done) }

    /// Threads serving right now (for tests and diagnostics).
    public static var helpersServing: Int { board.helperCount }

    static let board = JobBoard()
}

/// How many bodies of runWorkers are still running, and how many threads serve them.
private final class RunningWorkers: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()
    private var count: Int
    private var serving = 0
    private let cores: Int

    init(_ count: Int, cores: Int) {
        self.count = count
        self.cores = cores
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
    }

    func finish() {
        pthread_mutex_lock(&mutex)
        count -= 1
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }

    var none: Bool { pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }; return count == 0 }

    /// Waits until this thread may serve (fewer running bodies plus helpers than cores; true) or
    /// every body has returned (false). Bodies only ever finish, so a helper once admitted stays
    /// within the cores.
    func waitForTurnToServe() -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while count > 0 && count + serving >= cores { pthread_cond_wait(&changed, &mutex) }
        guard count > 0 else { return false }
        serving += 1
        return true
    }
}

/// One forEach in flight: its pieces, who works on it, and the counters they share.
final class Job {
    /// Atomic counters: next piece to take, pieces finished, slots handed out, helpers inside.
    private let counters = UnsafeMutablePointer<Int>.allocate(capacity: 4)
    var count = 0
    var body: ((Int, Int) -> Void)?

    init() { counters.initialize(repeating: 0, count: 4) }
    deinit { counters.deallocate() }

    var next: UnsafeMutablePointer<Int> { counters }
    var finished: UnsafeMutablePointer<Int> { counters + 1 }
    var slots: UnsafeMutablePointer<Int> { counters + 2 }
    var helpersInside: UnsafeMutablePointer<Int> { counters + 3 }

    var hasPiecesLeft: Bool { iml_atomic_load(next) < count }

    /// Takes pieces until none is left.
    func work(slot: Int) {
        guard let body else { return }
        while true {
            let piece = iml_atomic_fetch_add(next, 1)
            if piece >= count { return }
            body(piece, slot)
            _ = iml_atomic_fetch_add(finished, 1)
        }
    }
}

/// The jobs in flight and the helpers waiting for them. @unchecked Sendable (it is shared by every
/// thread through Parallel.board): `active` is only read and written under `mutex`; `helpers` and
/// `generation` are only touched through the atomics; `jobKey` is set once, in init. A Job's
/// `count` and `body` are written by its caller before it is posted under `mutex` and cleared only
/// after no helper is inside it.
final class JobBoard: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var posted = pthread_cond_t()
    private var active: [Job] = []
    /// Atomic: helpers serving; bumped on every post so spinning helpers notice new work.
    private let helpers = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    private let generation = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    /// Each caller thread reuses one Job (no allocation per forEach).
    private var jobKey = pthread_key_t()

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&posted, nil)
        helpers.initialize(to: 0)
        generation.initialize(to: 0)
        active.reserveCapacity(64)
        pthread_key_create(&jobKey) { pointer in
            Unmanaged<Job>.fromOpaque(pointer!).release()
        }
    }

    var hasHelpers: Bool { iml_atomic_load(helpers) > 0 }
    var helperCount: Int { iml_atomic_load(helpers) }

    private func jobOfThisThread() -> Job {
        if let pointer = pthread_getspecific(jobKey) { return Unmanaged<Job>.fromOpaque(pointer).takeUnretainedValue() }
        let job = Job()
        pthread_setspecific(jobKey, Unmanaged.passRetained(job).toOpaque())
        return job
    }

    func run(count: Int, body: @escaping (Int, Int) -> Void) {
        let job = jobOfThisThread()
        job.count = count
        job.body = body
        iml_atomic_store(job.next, 0)
        iml_atomic_store(job.finished, 0)
        iml_atomic_store(job.slots, 1)  // slot 0 is the caller's
        pthread_mutex_lock(&mutex)
        active.append(job)
        _ = iml_atomic_fetch_add(generation, 1)
        pthread_cond_broadcast(&posted)
        pthread_mutex_unlock(&mutex)

        job.work(slot: 0)
        Self.spin { iml_atomic_load(job.finished) >= count }

        pthread_mutex_lock(&mutex)
        if let index = active.firstIndex(where: { $0 === job }) { active.remove(at: index) }
        pthread_mutex_unlock(&mutex)
        // A helper may still hold the job (it found no piece left); let it leave before reuse.
        Self.spin { iml_atomic_load(job.helpersInside) == 0 }
        job.body = nil
    }

    func serve(until done: () -> Bool) {
        _ = iml_atomic_fetch_add(helpers, 1)
        defer { _ = iml_atomic_fetch_add(helpers, -1) }
        while let (job, slot) = nextJob(until: done) {
            job.work(slot: slot)
            _ = iml_atomic_fetch_add(job.helpersInside, -1)
        }
    }

    /// Joins a job with pieces left, or returns nil once `done()`. New work usually follows
    /// within microseconds (the next layer's forEach), so a helper spins a little before it
    /// sleeps; `generation` is read under the lock that posts, so no post is missed.
    private func nextJob(until done: () -> Bool) -> (Job, Int)? {
        var sleepNext = false
        while true {
            pthread_mutex_lock(&mutex)
            if done() { pthread_mutex_unlock(&mutex); return nil }
            if let job = active.first(where: { $0.hasPiecesLeft }) {
                _ = iml_atomic_fetch_add(job.helpersInside, 1)
                let slot = iml_atomic_fetch_add(job.slots, 1)
                pthread_mutex_unlock(&mutex)
                return (job, slot)
            }
            let seen = iml_atomic_load(generation)
            if sleepNext {
                var deadline = timespec()
                clock_gettime(CLOCK_REALTIME, &deadline)
                deadline.tv_nsec += 2_000_000
                if deadline.tv_nsec >= 1_000_000_000 { deadline.tv_sec += 1; deadline.tv_nsec -= 1_000_000_000 }
                pthread_cond_timedwait(&posted, &mutex, &deadline)
                pthread_mutex_unlock(&mutex)
                sleepNext = false
                continue
            }
            pthread_mutex_unlock(&mutex)
            var spins = 0
            while spins < 2000 && iml_atomic_load(generation) == seen { iml_cpu_relax(); spins += 1 }
            sleepNext = iml_atomic_load(generation) == seen
        }
    }

    /// Busy-waits for `condition`, yielding the processor after a while.
    private static func spin(_ condition: () -> Bool) {
        var spins = 0
        while !condition() {
            if spins < 1000 { iml_cpu_relax(); spins += 1 } else { sched_yield() }
        }
    }
}

/// How rows are split into pieces: about `target` blocks, each a multiple of 12 rows and at least
/// `minimum` rows, fixed by the row count alone. Why 12: cut at multiples of 12 rows, OpenBLAS's
/// Haswell (the kernel published runs pin), Zen and Sandybridge kernels give the very bits of the
/// uncut product, so splitting did not change a published number (other kernels, e.g. SkylakeX,
/// may round cut products differently; the cut is still the same for any thread count).
public struct RowBlocks {
    public let rows: Int
    public let size: Int

    public init(rows: Int, target: Int = 8, minimum: Int = 12) {
        self.rows = rows
        let share = (rows + target - 1) / max(1, target)
        size = max((minimum + 11) / 12 * 12, (share + 11) / 12 * 12, 12)
    }

    public var count: Int { (rows + size - 1) / size }
    public func range(_ block: Int) -> Range<Int> { block * size ..< min(rows, (block + 1) * size) }
}
