// Stage 2 started from a point of another run's stage 1 (`run --stage2-from RUN --epochs1 E`):
// each seed loads RUN's saved model at stage-1 epoch E (kept with `--save-every K`), takes RUN's
// stage-1 records through epoch E as its own, and trains only stage 2. Nothing in stage 1 depends
// on how many epochs it will have, so the result is what `run --epochs1 E` would give, without
// training stage 1 again (a test checks that, bit for bit). Everything is checked before a seed
// starts, each problem in one sentence.

import Foundation
import IMLBase
import IMLCore
import IMLRunFiles

public struct Stage1Source: Sendable {
    /// The source run's directory and the stage-1 epoch stage 2 starts from.
    public let run: URL
    public let epoch: Int
    let recordsBySeed: [UInt64: [MetricRecord]]

    /// Checks that `spec` (a run with `stage2From`) continues the finished run it names:
    /// `sourceSpec` is that run's recorded spec, which must equal `spec` in everything but the
    /// seeds (a subset), --epochs1 (at most the source's), --epochs2 and --save-every; and the
    /// source kept each seed's model at stage-1 epoch `spec.training.epochs1`.
    public init(spec: RunSpec, sourceSpec: RunSpec, records: [MetricRecord]) throws {
        guard let path = spec.stage2From else { throw IMLError("This run has no --stage2-from.") }
        run = URL(fileURLWithPath: path)
        epoch = spec.training.epochs1
        let name = "--stage2-from \(path)"
        var comparable = spec
        comparable.stage2From = nil
        comparable.seeds = sourceSpec.seeds
        comparable.saveEvery = sourceSpec.saveEvery
        comparable.training.epochs1 = sourceSpec.training.epochs1
        comparable.training.epochs2 = sourceSpec.training.epochs2
        if let difference = sourceSpec.firstDifference(from: comparable) {
            throw IMLError("\(name) continues that run's stage 1, made with \(difference.option) \(difference.mine), but this command gives \(difference.option) \(difference.other); leave \(difference.option) out (a stage-2 start takes the source run's settings; only --seeds, --first-seed, --epochs1 and --epochs2 may differ).")
        }
        if epoch > sourceSpec.training.epochs1 {
            throw IMLError("--epochs1 \(epoch) is past the end of \(path)'s stage 1 (\(sourceSpec.training.epochs1) epochs); stage 2 starts from a point of that stage, so give --epochs1 at most \(sourceSpec.training.epochs1).")
        }
        let sourceSeeds = Set(sourceSpec.seeds)
        if let seed = spec.seeds.first(where: { !sourceSeeds.contains($0) }) {
            throw IMLError("Seed \(seed) is not a seed of \(path) (its seeds are \(sourceSpec.seeds.map(String.init).joined(separator: ", "))); give --seeds and --first-seed within them.")
        }
        for seed in spec.seeds {
            let file = RunModels.url(run: run, seed: seed, stage: 1, epoch: epoch)
            guard FileManager.default.fileExists(atPath: file.path) else {
                let kept = RunModels.points(run: run, seed: seed).filter { $0.stage == 1 }.map { String($0.epoch) }
                let fix = kept.isEmpty
                    ? "it kept no stage-1 models (models/ is missing); train it again with --save-every K"
                    : "it kept stage-1 epochs \(kept.joined(separator: ", ")); give --epochs1 one of those, or train it again with a --save-every that keeps \(epoch)"
                throw IMLError("\(path) has no saved model of seed \(seed) at stage-1 epoch \(epoch) (no \(file.path)): \(fix).")
            }
        }
        var bySeed: [UInt64: [MetricRecord]] = [:]
        for record in records {
            switch record {
            case .exactMatch(let seed, 1, let e, _, _, _) where e <= epoch: bySeed[seed, default: []].append(record)
            case .trainLoss(let seed, 1, let e, _) where e <= epoch: bySeed[seed, default: []].append(record)
            default: continue
            }
        }
        recordsBySeed = bySeed
    }

    /// Puts the seed's saved stage-1 weights into `parameters` and returns its stage-1 records
    /// through the epoch, which become the new run's own.
    public func start(seed: UInt64, parameters: [Parameter]) throws -> [MetricRecord] {
        let file = RunModels.url(run: run, seed: seed, stage: 1, epoch: epoch)
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw IMLError("Cannot read \(file.path) (\(RunFileText.reason(error))); check that it is a readable file.")
        }
        let model = try SavedModel(data: data, name: file.path)
        guard model.seed == seed, model.stage == 1, model.epoch == epoch else {
            throw IMLError("\(file.path) holds seed \(model.seed)'s model at stage \(model.stage), epoch \(model.epoch), not seed \(seed)'s at stage 1, epoch \(epoch); restore the file from a copy of the run, or train it again.")
        }
        try model.load(into: parameters, name: file.path)
        return recordsBySeed[seed] ?? []
    }
}
