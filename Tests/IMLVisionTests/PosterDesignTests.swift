import XCTest
import IMLBase
import IMLProtocol
import MNIST
@testable import IMLVision

/// The authors' poster design (docs/PROTOCOL.md section 3a): 3x3 grids, one binary attribute per
/// cell, a question boxes the cell it asks about and supervises only that cell's head.
final class PosterDesignTests: XCTestCase {
    func posterVision(_ handwriting: Handwriting = .fresh, redraw: Redraw = .once) -> VisionConfig {
        var vision = VisionConfig()
        vision.design = .poster
        vision.grid = VisionDesign.poster.defaultGrid
        vision.handwriting = handwriting
        vision.redraw = redraw
        return vision
    }

    func posterProtocol(entities: Int = 60, seed: UInt64 = 1) -> ProtocolConfig {
        var config = ProtocolConfig()
        config.entities = entities
        config.attributes = VisionDesign.poster.defaultAttributes(grid: 3)!
        config.classes = VisionDesign.poster.defaultClasses!
        config.seed = seed
        return config
    }

    func makeRenderer(_ handwriting: Handwriting = .fresh) throws -> VisionRenderer {
        try VisionModality(vision: posterVision(handwriting), data: try syntheticMNIST()).renderer(posterProtocol())
    }

    /// The pixels of grid cell `cell` with its border ring of `width` pixels (ring) or without it (inside).
    func cellPixels(_ image: [UInt8], _ c: VisionConfig, _ cell: Int, ring: Bool) -> [UInt8] {
        let top = c.stripRows + (cell / c.grid) * 28, left = (cell % c.grid) * 28
        var out: [UInt8] = []
        for r in 0..<28 {
            for col in 0..<28 where (min(r, col, 27 - r, 27 - col) < c.boxWidth) == ring {
                out.append(image[(top + r) * c.width + left + col])
            }
        }
        return out
    }

    func testProtocolShapesOfThePosterDesign() throws {
        let r = try makeRenderer()
        let c = r.config, config = r.instance.config
        XCTAssertEqual([c.height, c.width], [4 + 84, 84])
        XCTAssertEqual(c.tagSpec.length, 21, "84 columns of 4 x 4 tag blocks")
        XCTAssertEqual(r.instance.variableSpec, SymbolSpec(alphabet: 10, length: 9))
        XCTAssertEqual([config.attributes, config.classes, config.heldOutCount], [9, 2, 2], "two held-out cells, round(9/6)")
        for e in r.instance.entities {
            XCTAssertTrue(e.attributes.allSatisfy { $0 == 0 || $0 == 1 })
            XCTAssertEqual(e.heldOut.count, e.subset.stage == 1 ? 2 : 0)
        }
        // A question supervises its cell's head only; a definition all nine.
        for ex in r.instance.stage1Train {
            let supervised = ex.targets.indices.filter { ex.targets[$0] >= 0 }
            XCTAssertEqual(supervised.count, ex.kind == .definition ? 9 : 1)
            if let k = ex.askedAttribute {
                XCTAssertEqual(supervised, [k])
                XCTAssertFalse(r.instance.entities[ex.entity].heldOut.contains(k), "a held-out cell is never trained")
            }
        }
        let model = try VisionModality(vision: c, data: try syntheticMNIST()).makeTask(posterProtocol()) as! VisionTask
        XCTAssertEqual(model.model.config.heads * model.model.config.classes, 18, "nine heads of two classes")
    }

    func testAQuestionBoxesItsCellAndNoOther() throws {
        let r = try makeRenderer(.fixed)
        let c = r.config
        let entity = r.instance.members(.qd1consis)[0]
        let plain = r.render(entity: entity, tag: nil, evaluation: true)
        for k in 0..<9 {
            let image = r.renderQuestion(entity: entity, attribute: k, evaluation: true)
            XCTAssertTrue(image[0..<(c.stripRows * c.width)].allSatisfy { $0 == 0 }, "a question's strip is blank")
            for cell in 0..<9 {
                let ring = cellPixels(image, c, cell, ring: true)
                if cell == k {
                    XCTAssertTrue(ring.allSatisfy { $0 == 255 }, "cell \(k)'s box must be white all round")
                } else {
                    XCTAssertEqual(ring, cellPixels(plain, c, cell, ring: true), "cell \(cell) must not be boxed when \(k) is asked")
                }
                // The digit itself is untouched by the box.
                XCTAssertEqual(cellPixels(image, c, cell, ring: false), cellPixels(plain, c, cell, ring: false))
            }
        }
        // A training question boxes the cell it asks; a definition boxes none.
        let question = r.instance.stage1Train.first { $0.kind == .question && $0.entity == entity }!
        XCTAssertTrue(cellPixels(r.render(question), c, question.askedAttribute!, ring: true).allSatisfy { $0 == 255 })
        let definition = r.instance.stage1Train.first { $0.kind == .definition && $0.entity == entity }!
        XCTAssertEqual(Array(r.render(definition)[(c.stripRows * c.width)...]), Array(plain[(c.stripRows * c.width)...]))
    }

    func testTheReconstructionDesignDrawsNoBox() throws {
        var vision = VisionConfig()
        vision.handwriting = .fixed
        let r = try VisionModality(vision: vision, data: try syntheticMNIST()).renderer(ProtocolConfig())
        XCTAssertEqual(r.renderQuestion(entity: 0, attribute: 3), r.renderQuestion(entity: 0))
        XCTAssertNil(r.box(asking: 3))
    }

    func testQuestionsShowNewHandwritingOfTheSameDigits() throws {
        let r = try makeRenderer(.fresh)
        let c = r.config
        let definition = r.instance.stage1Train.first { $0.kind == .definition }!
        let variable = r.instance.entities[definition.entity].variable
        let defined = r.render(definition)
        let asked = r.instance.entities[definition.entity].heldOut[0]
        let question = r.renderQuestion(entity: definition.entity, attribute: asked, evaluation: true)
        var differs = false
        for cell in 0..<9 {
            let inside = cellPixels(question, c, cell, ring: false)
            XCTAssertEqual(Int(inside[0] & 0x0F), variable[cell], "the question draws the variable's digit")
            XCTAssertEqual(inside[0] & 0x80, 0x80, "an evaluation question draws from the test split")
            differs = differs || inside != cellPixels(defined, c, cell, ring: false)
        }
        XCTAssertTrue(differs)
    }

    func testEveryEpochRedrawDependsOnlyOnStageAndEpoch() throws {
        func task() throws -> VisionTask {
            try VisionModality(vision: posterVision(.fresh, redraw: .everyEpoch), data: try syntheticMNIST())
                .makeTask(posterProtocol(entities: 40)) as! VisionTask
        }
        let a = try task(), b = try task()
        let built = a.trainImages[1]!
        a.beginEpoch(stage: 1, epoch: 1); a.beginEpoch(stage: 1, epoch: 2)
        b.beginEpoch(stage: 1, epoch: 2)  // a resumed run starts at epoch 2
        XCTAssertEqual(a.trainImages[1]!, b.trainImages[1]!, "epoch 2's drawings do not depend on what came before")
        XCTAssertNotEqual(a.trainImages[1]!, built, "a new epoch draws new handwriting")
        XCTAssertEqual(a.trainImages[1]!.count, built.count)
        // Drawing once leaves the images alone.
        let once = try VisionModality(vision: posterVision(.fresh), data: try syntheticMNIST()).makeTask(posterProtocol(entities: 40)) as! VisionTask
        let before = once.trainImages[1]!
        once.beginEpoch(stage: 1, epoch: 2)
        XCTAssertEqual(once.trainImages[1]!, before)
    }

    func testPredictionsReadTheBoxedQuestionsImage() throws {
        let task = try VisionModality(vision: posterVision(.fixed), data: try syntheticMNIST()).makeTask(posterProtocol(entities: 40)) as! VisionTask
        // With fixed handwriting, each (entity, asked cell) is one image: questions about other cells are other images.
        for set in task.instance.stage2Eval {
            let distinct = Set(set.questions.map { [$0.entity, $0.attribute] }).count
            XCTAssertEqual(task.evalImages[set.subset]!.count, distinct * task.renderer.config.pixels)
            XCTAssertEqual(task.predict(set).count, set.questions.count)
        }
    }

    func testTheDesignRefusesAnAttributeCountOtherThanItsCells() {
        var config = posterProtocol()
        config.attributes = 6
        XCTAssertThrowsError(try VisionModality(vision: posterVision()).validate(config)) { error in
            XCTAssertEqual((error as? IMLError)?.message,
                           "--design poster asks one attribute per grid cell, so --attributes must be 9 for --grid 3 (got 6); leave --attributes out or give 9.")
        }
        var fixed = posterVision(.fixed, redraw: .everyEpoch)
        fixed.design = .reconstruction
        XCTAssertThrowsError(try fixed.validate())
    }
}
