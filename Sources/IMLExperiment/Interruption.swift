// Ctrl-C during training: the first SIGINT asks every seed to stop after its current batch and
// save a checkpoint; a second one quits at once (the checkpoints of finished epochs stay).

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

/// SIGINTs received while an InterruptHandler is installed. A C signal handler may only touch
/// plain memory, so the seed threads poll this through their StopFlag.
private let sigintCount: UnsafeMutablePointer<Int32> = {
    let pointer = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    pointer.initialize(to: 0)
    return pointer
}()

/// Turns SIGINT into a stop request while installed; a second SIGINT quits at once.
final class InterruptHandler {
    init(stop: StopFlag, log: @escaping (String) -> Void) {
        sigintCount.pointee = 0
        stop.externalRequest = { sigintCount.pointee > 0 }
        stop.onExternalRequest = {
            log("\nCtrl-C: stopping after the current batch and saving checkpoints (press Ctrl-C again to quit at once).")
        }
        signal(SIGINT) { _ in
            if sigintCount.pointee > 0 { _exit(130) }
            sigintCount.pointee = 1
        }
    }

    func remove() {
        signal(SIGINT, SIG_DFL)
    }
}

/// The run stopped on request; its checkpoints and the metrics so far are in `directory`.
public struct RunInterrupted: Error, CustomStringConvertible {
    public let directory: String
    public init(directory: String) { self.directory = directory }
    public var description: String {
        "Stopped after the current batch; the checkpoints and the metrics so far are in \(directory). To continue, repeat the command with --resume \(directory) in place of --out."
    }
}
