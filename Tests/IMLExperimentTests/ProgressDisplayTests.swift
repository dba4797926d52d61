@testable import IMLExperiment
import XCTest

/// The status line: a seed's last epoch is shown once, in the update that finishes it, and the
/// seed then leaves the line.
final class ProgressDisplayTests: XCTestCase {
    func progress(seed: UInt64, epoch: Int, done: Int, loss: Double) -> TrainingProgress {
        TrainingProgress(seed: seed, stage: 2, epoch: epoch, epochs: 2, examplesDone: done, examplesTotal: 100,
                         loss: loss, headline: [("d1consis", 0.25)], evaluated: true)
    }

    func testAFinishingSeedShowsItsLastEpochOnceThenLeavesTheLine() {
        let display = ProgressDisplay(seeds: 2)
        display.latest[0] = progress(seed: 0, epoch: 1, done: 50, loss: 2.5)
        display.latest[1] = progress(seed: 1, epoch: 1, done: 50, loss: 2.7)
        let last = progress(seed: 1, epoch: 2, done: 100, loss: 2.375)
        display.latest[1] = last
        display.finishedSeeds.insert(1)
        let now = display.start

        let finishing = display.statusLine(now: now, showing: 1)
        XCTAssertTrue(finishing.contains("1/2 seeds done"), finishing)
        XCTAssertTrue(finishing.hasSuffix("| seed 0 stage 2 epoch 1/2 loss 2.500 d1consis 0.25 | seed 1 stage 2 epoch 2/2 loss 2.375 d1consis 0.25"), finishing)

        let after = display.statusLine(now: now, showing: 0)
        XCTAssertTrue(after.hasSuffix("| seed 0 stage 2 epoch 1/2 loss 2.500 d1consis 0.25"), after)
        XCTAssertTrue(after.contains("75% 1/2 seeds done"), after)
    }
}
