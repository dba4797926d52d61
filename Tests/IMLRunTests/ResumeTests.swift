import XCTest
import IMLBase
import IMLCore
import IMLProtocol
@testable import IMLRunFiles
@testable import IMLTraining

/// The toy lookup task with a hook called after every training step (with the run's step count),
/// to copy the run directory as a kill would leave it, inject a NaN, or send a signal.
final class HookedTask: TrainingTask {
    let inner: LookupTask
    let afterStep: (Int, LookupTask) -> Void
    private(set) var stepsTaken = 0
    init(_ inner: LookupTask, afterStep: @escaping (Int, LookupTask) -> Void) { self.inner = inner; self.afterStep = afterStep }
    var network: Layer { inner.network }
    var instance: ProtocolInstance { inner.instance }
    var settings: [(String, JSON)] { inner.settings }
    func lossAndGradient(stage: Int, examples: ArraySlice<Int>) -> Float {
        let loss = inner.lossAndGradient(stage: stage, examples: examples)
        stepsTaken += 1
        afterStep(stepsTaken, inner)
        return loss
    }
    func predict(_ set: EvalSet) -> [Int] { inner.predict(set) }
    func lossAndGradient(of example: Example, scoring: ExampleLoss) -> Float { inner.lossAndGradient(of: example, scoring: scoring) }
    func probeFeatures(_ set: EvalSet) -> [ProbeLayer] { inner.probeFeatures(set) }
}

final class ResumeTests: XCTestCase {
    var base: URL!

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("resume-tests-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        addTeardownBlock { [base] in try? FileManager.default.removeItem(at: base!) }
        BLAS.setThreads(1)
    }

    /// 40 entities, 3 + 2 epochs, batch 16.
    func experiment(seeds: [UInt64] = [0, 1], epochs1: Int = 3, epochs2: Int = 2, lr: Float = 0.05,
                    definitionsFirst: Int = 0) -> Experiment {
        var training = TrainingConfig()
        training.epochs1 = epochs1; training.epochs2 = epochs2; training.batchSize = 16; training.learningRate = lr
        var c = ProtocolConfig(); c.entities = 40; c.definitionsFirst = definitionsFirst
        return Experiment(modality: ToyModality(), protocolConfig: c, seeds: seeds, training: training, concurrency: 1)
    }

    func lookupTask(seed: UInt64) throws -> LookupTask {
        var c = ProtocolConfig(); c.entities = 40; c.seed = seed
        return LookupTask(instance: try ProtocolInstance(config: c, variableSpec: SymbolSpec(alphabet: 26, length: 3),
                                                         tagSpec: SymbolSpec(alphabet: 26, length: 3)), seed: seed)
    }

    /// Runs `experiment` in `directory` (a new run, or resumed); `afterStep` sees the step count over all seeds.
    @discardableResult
    func run(_ experiment: Experiment, in directory: RunDirectory,
             afterStep: @escaping (Int, LookupTask) -> Void = { _, _ in }) throws -> RunSummary {
        var hooked = experiment, steps = 0
        hooked.modality = ToyModality { task in HookedTask(task) { _, task in steps += 1; afterStep(steps, task) } }
        return try hooked.run(in: directory, log: { _ in })
    }

    /// Training steps per epoch of `stage` (the same for every seed).
    func stepsPerEpoch(stage: Int) throws -> Int { (try lookupTask(seed: 0).instance.trainingSet(stage: stage).count + 15) / 16 }

    func path(_ name: String) -> String { base.appendingPathComponent(name).path }
    func text(_ name: String, _ file: String) throws -> String {
        try String(contentsOfFile: base.appendingPathComponent(name).appendingPathComponent(file).path, encoding: .utf8)
    }
    func summaryWithoutWallTime(_ name: String) throws -> String {
        try text(name, RunDirectory.summaryFile).split(separator: "\n").filter { !$0.contains("wall_seconds") }.joined(separator: "\n")
    }

    func testRunKilledAtAnyStepAndResumedEqualsTheUninterruptedRun() throws {
        try run(experiment(), in: try RunDirectory.create(path("whole"), force: false))
        // A kill leaves exactly what is on disk at that moment (every write is atomic): copy the
        // directory after these steps: inside and at the end of stage-1 epochs of seed 0, in its
        // stage 2, at its end, inside seed 1.
        let s1 = try stepsPerEpoch(stage: 1), s2 = try stepsPerEpoch(stage: 2), perSeed = 3 * s1 + 2 * s2
        let killSteps = [2, s1, s1 + 3, 3 * s1, 3 * s1 + 1, perSeed, perSeed + s1 + 1]
        try run(experiment(), in: try RunDirectory.create(path("killed"), force: false)) { step, _ in
            if killSteps.contains(step) {
                try! FileManager.default.copyItem(atPath: self.path("killed"), toPath: self.path("killed-at-\(step)"))
            }
        }
        let complete = try text("whole", RunDirectory.metricsFile)
        XCTAssertEqual(try text("killed", RunDirectory.metricsFile), complete)
        for step in killSteps {
            let name = "killed-at-\(step)"
            let kept = try text(name, RunDirectory.metricsFile)
            XCTAssertTrue(complete.hasPrefix(kept), "a killed run keeps the metrics of its finished epochs (\(name))")
            XCTAssertFalse(FileManager.default.fileExists(atPath: path(name) + "/summary.json"))
            var resumedSteps = 0
            try run(experiment(), in: try RunDirectory.openForResume(path(name))) { _, _ in resumedSteps += 1 }
            XCTAssertEqual(try text(name, RunDirectory.metricsFile), complete, "resumed after step \(step)")
            XCTAssertEqual(try summaryWithoutWallTime(name), try summaryWithoutWallTime("whole"))
            // At most the epoch the kill interrupted is trained again.
            XCTAssertLessThanOrEqual(resumedSteps, 2 * perSeed - step + s1, "resumed after step \(step) trained too much again")
            XCTAssertGreaterThanOrEqual(resumedSteps, 2 * perSeed - step, "resumed after step \(step) skipped training")
        }
        // Resuming a finished run trains nothing and gives the same files.
        var stepsAfterFinish = 0
        try run(experiment(), in: try RunDirectory.openForResume(path("whole"))) { _, _ in stepsAfterFinish += 1 }
        XCTAssertEqual(stepsAfterFinish, 0)
        XCTAssertEqual(try text("whole", RunDirectory.metricsFile), complete)
    }

    /// Definitions first changes the examples an epoch trains at the switch; a run killed at any
    /// step, in either phase or at the switch, still resumes to the uninterrupted run's bytes.
    func testDefinitionsFirstRunKilledAtAnyStepAndResumedEqualsTheUninterruptedRun() throws {
        let make = { self.experiment(epochs1: 4, definitionsFirst: 2) }
        try run(make(), in: try RunDirectory.create(path("whole"), force: false))
        let complete = try text("whole", RunDirectory.metricsFile)
        var perSeed = 0
        try run(experiment(seeds: [0], epochs1: 4, definitionsFirst: 2), in: try RunDirectory.create(path("one"), force: false)) { step, _ in perSeed = step }
        let definitions = try lookupTask(seed: 0).instance.stage1Train.filter { $0.kind == .definition }.count
        XCTAssertGreaterThan(perSeed, 2 * ((definitions + 15) / 16), "the questions are trained after the definitions")
        try run(make(), in: try RunDirectory.create(path("killed"), force: false)) { step, _ in
            if step <= perSeed + 2 {
                try! FileManager.default.copyItem(atPath: self.path("killed"), toPath: self.path("killed-at-\(step)"))
            }
        }
        for step in 1...(perSeed + 2) {
            try run(make(), in: try RunDirectory.openForResume(path("killed-at-\(step)")))
            XCTAssertEqual(try text("killed-at-\(step)", RunDirectory.metricsFile), complete, "resumed after step \(step)")
        }
    }

    func testASeedWithoutStage2EpochsIsRecordedAsFinished() throws {
        try run(experiment(epochs2: 0), in: try RunDirectory.create(path("run"), force: false))
        let complete = try text("run", RunDirectory.metricsFile)
        XCTAssertTrue(complete.contains("\"stage\":2,\"epoch\":0"), "stage 2 is still evaluated once")
        let checkpoints = try RunCheckpoints(directory: RunDirectory(url: base.appendingPathComponent("run")), seeds: [0, 1], resuming: true)
        for seed: UInt64 in [0, 1] {
            let state = try XCTUnwrap(try checkpoints.load(seed: seed))
            XCTAssertTrue(state.finished)
            XCTAssertTrue(state.tensors.isEmpty, "a finished seed's checkpoint keeps only its records")
        }
        var steps = 0
        try run(experiment(epochs2: 0), in: try RunDirectory.openForResume(path("run"))) { _, _ in steps += 1 }
        XCTAssertEqual(steps, 0, "a finished seed is not trained again")
        XCTAssertEqual(try text("run", RunDirectory.metricsFile), complete)
    }

    func testStopInsideAnEpochSavesAndTheResumedTrainerMatchesAnUninterruptedOne() throws {
        var config = TrainingConfig()
        config.epochs1 = 2; config.epochs2 = 2; config.batchSize = 16; config.learningRate = 0.05
        let whole = Trainer(task: try lookupTask(seed: 4), config: config, seed: 4)
        try whole.run()

        var saved: TrainingState?
        var batches = 0
        let s1 = try stepsPerEpoch(stage: 1)
        let first = Trainer(task: try lookupTask(seed: 4), config: config, seed: 4)
        XCTAssertThrowsError(try first.run(saveCheckpoint: { saved = $0 }, shouldStop: { batches += 1; return batches == s1 + 2 })) {
            XCTAssertTrue($0 is TrainingStopped, "\($0)")
        }
        let state = try XCTUnwrap(saved)
        // shouldStop is also asked after every epoch, so its call s1 + 2 follows the first batch of epoch 2.
        XCTAssertEqual(state.position, "stage 1, inside epoch 2 at example 16")
        // Through the file format, as a resumed process would read it.
        let reread = try TrainingState(checkpoint: state.serialized(), name: "seed-4.checkpoint")
        let resumed = Trainer(task: try lookupTask(seed: 4), config: config, seed: 4)
        try resumed.run(from: reread)
        XCTAssertEqual(resumed.records, whole.records)
    }

    func testCtrlCStopsTheRunWithHowToResumeAndTheResumedRunMatches() throws {
        try run(experiment(), in: try RunDirectory.create(path("whole"), force: false))
        XCTAssertThrowsError(try run(experiment(), in: try RunDirectory.create(path("stopped"), force: false)) { step, _ in
            if step == 3 { kill(getpid(), SIGINT) }
        }) { error in
            XCTAssertEqual("\(error)", "Stopped after the current batch; the checkpoints and the metrics so far are in \(self.path("stopped")). To continue, repeat the command with --resume \(self.path("stopped")) in place of --out.")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("stopped") + "/summary.json"))
        let checkpoint = try XCTUnwrap(try RunCheckpoints(directory: RunDirectory(url: base.appendingPathComponent("stopped")), seeds: [0, 1], resuming: true).load(seed: 0))
        XCTAssertFalse(checkpoint.finished)
        try run(experiment(), in: try RunDirectory.openForResume(path("stopped")))
        XCTAssertEqual(try text("stopped", RunDirectory.metricsFile), try text("whole", RunDirectory.metricsFile))
        XCTAssertEqual(try summaryWithoutWallTime("stopped"), try summaryWithoutWallTime("whole"))
    }

    func testResumeRefusesDifferentSettingsNamingTheSetting() throws {
        try run(experiment(), in: try RunDirectory.create(path("run"), force: false))
        XCTAssertThrowsError(try run(experiment(epochs1: 4), in: try RunDirectory.openForResume(path("run")))) {
            XCTAssertEqual(($0 as? IMLError)?.message, "The run in \(self.path("run")) was made with --epochs1 3, but this command gives --epochs1 4; leave that option out to continue with the run's value, or start a new run with --out.")
        }
        XCTAssertThrowsError(try RunDirectory.openForResume(path("nothing-here"))) {
            XCTAssertEqual(($0 as? IMLError)?.message, "There is no run to resume in \(self.path("nothing-here")): the directory does not exist; check the path given to --resume.")
        }
    }

    func testDamagedCheckpointIsRefusedWithAClearMessage() throws {
        var config = TrainingConfig()
        config.epochs1 = 2; config.epochs2 = 1; config.batchSize = 16
        var saved: TrainingState?
        XCTAssertThrowsError(try Trainer(task: try lookupTask(seed: 0), config: config, seed: 0)
            .run(saveCheckpoint: { saved = $0 }, shouldStop: { true }))
        let good = try XCTUnwrap(saved).serialized()
        func message(_ bytes: Data) -> String? {
            do { _ = try TrainingState(checkpoint: bytes, name: "seed-0.checkpoint"); return nil } catch { return "\(error)" }
        }
        var flipped = good
        flipped[flipped.count - 1] ^= 0xFF
        XCTAssertEqual(message(flipped), "The checkpoint seed-0.checkpoint is damaged (the payload checksum does not match); delete it to train that seed again from the start.")
        let payloadBytes = 4 * (try XCTUnwrap(saved).order.count + saved!.tensors.reduce(0) { $0 + $1.values.count })
        XCTAssertEqual(message(good.dropLast(4)), "The checkpoint seed-0.checkpoint is damaged (the payload has \(payloadBytes - 4) bytes, the header promises \(payloadBytes)); delete it to train that seed again from the start.")
        XCTAssertEqual(message(Data("IML checkpoint 1\n{}".utf8)), "The checkpoint seed-0.checkpoint is damaged (it ends inside its text part); delete it to train that seed again from the start.")
        XCTAssertEqual(message(Data("IML checkpoint 1\n{}\n".utf8)), "The checkpoint seed-0.checkpoint is damaged (no seed); delete it to train that seed again from the start.")
        XCTAssertEqual(message(Data("PK\u{3}\u{4}\n".utf8)), "seed-0.checkpoint is not a checkpoint of this program (its first line is not \"IML checkpoint 1\"); delete it to train that seed again from the start.")
        XCTAssertNil(message(good))

        // Through a run: the damaged file is named and nothing is trained.
        try run(experiment(seeds: [0]), in: try RunDirectory.create(path("run"), force: false))
        let file = base.appendingPathComponent("run/checkpoints/seed-0.checkpoint")
        try flipped.write(to: file)
        XCTAssertThrowsError(try run(experiment(seeds: [0]), in: try RunDirectory.openForResume(path("run")))) {
            XCTAssertEqual(($0 as? IMLError)?.message, "The checkpoint \(file.path) is damaged (the payload checksum does not match); delete it to train that seed again from the start.")
        }
    }

    func testNaNWeightStopsTheRunNamingSeedStageEpochStepAndKeepsTheLastGoodCheckpoint() throws {
        // The last step of stage-1 epoch 2 of seed 0 computes its loss before the NaN, so only the
        // weight check at the end of the epoch can see it.
        let s1 = try stepsPerEpoch(stage: 1)
        XCTAssertThrowsError(try run(experiment(), in: try RunDirectory.create(path("nan"), force: false)) { step, task in
            if step == 2 * s1 { task.layer.weight[0] = .nan }
        }) { error in
            XCTAssertEqual("\(error)", "Training diverged: a weight became NaN or infinite at seed 0, stage 1, epoch 2, step \(s1); lower --lr or change the seed; the last good checkpoint stays in \(self.path("nan"))/checkpoints/seed-0.checkpoint.")
        }
        let kept = try XCTUnwrap(try RunCheckpoints(directory: RunDirectory(url: base.appendingPathComponent("nan")), seeds: [0], resuming: true).load(seed: 0))
        XCTAssertEqual(kept.position, "stage 1, after epoch 1")
        XCTAssertTrue(kept.tensors.allSatisfy { $0.values.allSatisfy(\.isFinite) })
        XCTAssertFalse(try text("nan", RunDirectory.metricsFile).contains("\"epoch\":2"), "metrics.jsonl holds only the good epochs")
    }

    func testTwoRunsWithTheSameSettingsWriteByteIdenticalMetrics() throws {
        try run(experiment(), in: try RunDirectory.create(path("first"), force: false))
        try run(experiment(), in: try RunDirectory.create(path("second"), force: false))
        let first = try text("first", RunDirectory.metricsFile)
        XCTAssertEqual(first.split(separator: "\n").count, 2 * (4 * 8 + 3 * 4 + 3 + 2), "every epoch of both seeds is recorded")
        XCTAssertEqual(try text("second", RunDirectory.metricsFile), first)
    }
}
