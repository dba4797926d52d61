@testable import IMLTraining
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

/// On a terminal the line fits its width: the seeds' fields are abbreviated, then dropped, and
/// the line is never longer than the width.
final class ProgressWidthTests: XCTestCase {
    func display(seeds: Int) -> ProgressDisplay {
        let display = ProgressDisplay(seeds: seeds)
        for seed in 0..<UInt64(seeds) {
            display.latest[seed] = TrainingProgress(seed: seed, stage: 1, epoch: 3, epochs: 30, examplesDone: 500, examplesTotal: 5000,
                                                    loss: 1.234, headline: [("qd1consis", 0.5), ("qd2incons", 0.25), ("q", 0.125)], evaluated: true)
        }
        return display
    }

    func testTheLineFitsEveryWidth() {
        for seeds in [1, 2, 5, 20] {
            let d = display(seeds: seeds)
            for width in [10, 40, 79, 99, 199, 400] {
                let line = d.statusLine(now: d.start, width: width)
                XCTAssertLessThanOrEqual(line.count, width, "\(seeds) seeds, width \(width): \(line)")
            }
        }
    }

    func testAWideTerminalShowsEverythingANarrowOneTheEssentials() {
        let d = display(seeds: 2)
        XCTAssertEqual(d.statusLine(now: d.start, width: 400), d.statusLine(now: d.start), "wide enough: the full line")
        let narrow = d.statusLine(now: d.start, width: 99)
        XCTAssertTrue(narrow.contains("10%") && narrow.contains("s0 1:3/30 1.234") && narrow.contains("s1 1:3/30 1.234"), narrow)
        let tiny = d.statusLine(now: d.start, width: 40)
        XCTAssertTrue(tiny.hasPrefix("10% ETA"), tiny)
    }
}
