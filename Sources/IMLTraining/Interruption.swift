// Ctrl-C during training: the first SIGINT asks every seed to stop after its current batch and
// save a checkpoint; a second one quits at once (the checkpoints of finished epochs stay).
// SIGTERM (what Slurm sends on requeue, preemption, scancel and at the time limit, KillWait
// seconds before SIGKILL) does the same, except that a repeated SIGTERM is not a reason to quit
// at once: it only asks again, so a job script may pass it on without losing the checkpoint.

import Foundation

/// A flag the seed threads poll after every batch.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false
    /// Also asked by `isRequested` (set while a SIGINT handler is installed), and told once when it turns true.
    var externalRequest: (() -> Bool)?
    var onExternalRequest: (() -> Void)?

    public init() {}
    public var isRequested: Bool {
        lock.lock(); defer { lock.unlock() }
        if !requested, externalRequest?() == true {
            requested = true
            onExternalRequest?()
        }
        return requested
    }
    public func request() { lock.lock(); requested = true; lock.unlock() }
}

/// The first stop signal (SIGINT or SIGTERM) received while an InterruptHandler is installed, 0
/// before. A C signal handler may only touch plain memory, so the seed threads poll this through
/// their StopFlag. Not isolated: the handler writes one Int32 and the threads only read it.
nonisolated(unsafe) private let stopSignal: UnsafeMutablePointer<Int32> = {
    let pointer = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    pointer.initialize(to: 0)
    return pointer
}()

/// Turns SIGINT and SIGTERM into a stop request while installed; a second SIGINT quits at once.
final class InterruptHandler {
    init(stop: StopFlag, log: @escaping (String) -> Void) {
        stopSignal.pointee = 0
        stop.externalRequest = { stopSignal.pointee != 0 }
        stop.onExternalRequest = {
            log(stopSignal.pointee == SIGTERM
                ? "\nSIGTERM: stopping after the current batch and saving checkpoints."
                : "\nCtrl-C: stopping after the current batch and saving checkpoints (press Ctrl-C again to quit at once).")
        }
        signal(SIGINT) { _ in
            if stopSignal.pointee == SIGINT { _exit(130) }
            stopSignal.pointee = SIGINT
        }
        signal(SIGTERM) { _ in
            if stopSignal.pointee == 0 { stopSignal.pointee = SIGTERM }
        }
    }

    /// The signal that stopped the run (SIGINT or SIGTERM), 0 when none came.
    var signalReceived: Int32 { stopSignal.pointee }

    func remove() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// The run stopped on request; its checkpoints and the metrics so far are in `directory`.
public struct RunInterrupted: Error, CustomStringConvertible {
    public let directory: String
    /// The signal that stopped it: SIGINT (Ctrl-C) or SIGTERM.
    public let signal: Int32
    public init(directory: String, signal: Int32 = SIGINT) { self.directory = directory; self.signal = signal }
    /// The exit status of a process stopped this way: 128 + the signal (130, 143), as the shell reports a process the signal killed.
    public var exitStatus: Int32 { 128 + signal }
    public var description: String {
        "Stopped after the current batch; the checkpoints and the metrics so far are in \(directory). To continue, repeat the command with --resume \(directory) in place of --out."
    }
}
