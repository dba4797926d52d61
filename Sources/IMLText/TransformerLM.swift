// A small GPT-style causal language model built only from the core's layers (llm.c's
// gpt2_forward/gpt2_backward, with an untied output layer):
//
//   tokens [B, S] Int32
//   x      = tokenTable[tokens] + positionTable[0..<S]     [B, S, D]   (Embedding)
//   x      = block_l(x), l = 1..L                          [B, S, D]   (pre-LN, causal attention, GELU MLP 4D)
//   logits = head(finalNorm(x))                            [B*S, V]    (LayerNorm, Linear D -> V)
//
// Evaluation needs only the logits after the prompt's last token: `lastPositionLogits` runs the
// blocks on all positions and the norm and head on the last one only.

import IMLBase
import IMLCore

public final class TransformerLM: Layer {
    public struct Config: Codable, Equatable, Sendable {
        public var vocabularySize = 46
        /// Longest sequence (rows of the position table).
        public var maxLength = 12
        public var layers = 2
        public var width = 128
        public var heads = 4
        /// Standard deviation of the token and position tables' N(0, std^2) initialisation:
        /// 0.02 as GPT-2 and the paper's Pythia models; PyTorch's nn.Embedding default is 1.
        public var embeddingStd: Float = 0.02
        public init() {}

        public func validate() throws {
            if layers < 1 { throw IMLError("--layers must be at least 1 (got \(layers)).") }
            if heads < 1 { throw IMLError("--heads must be at least 1 (got \(heads)).") }
            // Limits far above anything this CPU trains in reasonable time; they turn a typo into a message, not a failed allocation.
            if layers > 64 || width > 4096 {
                throw IMLError("--layers must be at most 64 and --width at most 4096 (got \(layers), \(width)).")
            }
            if !(embeddingStd > 0 && embeddingStd.isFinite) {
                throw IMLError("--embedding-std must be a positive number (got \(embeddingStd)).")
            }
            if width < 1 || width % heads != 0 {
                throw IMLError("--width must be a positive multiple of --heads (got width \(width), \(heads) heads); try width \(max(1, width / max(1, heads)) * max(1, heads)).")
            }
            // Each block holds about 12 * width^2 weights (attention 4, MLP 8), each with its
            // gradient and Adam's two moments: 16 bytes a parameter, per seed training at once.
            let blocks = Double(layers) * 12 * Double(width) * Double(width)
            if blocks > Self.maxParameters {
                throw IMLError("--layers \(layers) and --width \(width) make a transformer of about \(String(format: "%.0f", blocks)) parameters (\(String(format: "%.1f", blocks * 16 / 1e9)) GB a seed with gradients and Adam's moments), more than the \(String(format: "%.0f", Self.maxParameters)) this program trains; choose a smaller --width or fewer --layers.")
            }
        }

        /// The most parameters a model may have, as for the vision model (ConvNetMLP.maxParameters).
        public static let maxParameters = 50_000_000.0
    }

    public let config: Config
    public let embedding: Embedding
    public let blocks: [TransformerBlock]
    public let finalNorm: LayerNorm
    public let head: Linear

    private var batch = 0
    private var length = 0
    /// The last position's hidden state of every sequence, [B, D] (evaluation only).
    private let lastHidden = Tensor([0])

    public init(config: Config, seed: UInt64) {
        self.config = config
        var rng = SeededRandom(seed: seed, stream: "transformer-init")
        embedding = Embedding(vocabSize: config.vocabularySize, maxLength: config.maxLength, dim: config.width,
                              initStd: config.embeddingStd, rng: &rng)
        blocks = (0..<config.layers).map { _ in TransformerBlock(dim: config.width, heads: config.heads, rng: &rng) }
        finalNorm = LayerNorm(dim: config.width)
        head = Linear(inFeatures: config.width, outFeatures: config.vocabularySize, rng: &rng)
    }

    public private(set) lazy var parameters: [Parameter] = {
        embedding.parameters.prefixed("embedding")
            + blocks.enumerated().flatMap { $0.element.parameters.prefixed("block\($0.offset)") }
            + finalNorm.parameters.prefixed("finalNorm") + head.parameters.prefixed("head")
    }()

    /// The architecture in one line, for config.json.
    public var summary: String {
        "causal transformer: token+position embeddings, \(config.layers) pre-LN blocks (width \(config.width), \(config.heads) heads, GELU MLP 4x), final LayerNorm, untied output layer"
    }

    /// tokens [B*S] (row-major [B, S]) -> logits [B*S, V] (the head's buffer).
    public func forward(tokens: [Int32], batch: Int, length: Int) -> Tensor {
        self.batch = batch
        self.length = length
        var x = embedding.forward(tokens: tokens, batch: batch, length: length)
        for block in blocks { x = block.forward(x) }
        return head.forward(finalNorm.forward(x))
    }

    /// dlogits [B*S, V] -> accumulates every parameter's gradient.
    public func backward(_ logitsGrad: Tensor) {
        var dx = finalNorm.backward(head.backward(logitsGrad))
        for block in blocks.reversed() { dx = block.backward(dx) }
        embedding.backward(dx)
    }

    /// tokens [B*S] -> the residual stream [B, S, D] after the embedding and after each block
    /// (for probes; no backward).
    public func residualStreams(tokens: [Int32], batch: Int, length: Int) -> [[Float]] {
        var x = embedding.forward(tokens: tokens, batch: batch, length: length)
        var streams = [Array(x.buffer)]
        for block in blocks {
            x = block.forward(x)
            streams.append(Array(x.buffer))
        }
        return streams
    }

    /// tokens [B*S] -> logits [B, V] of position S-1 of every sequence (no backward).
    public func lastPositionLogits(tokens: [Int32], batch: Int, length: Int) -> Tensor {
        var x = embedding.forward(tokens: tokens, batch: batch, length: length)
        for block in blocks { x = block.forward(x) }
        let d = config.width
        lastHidden.resize(batch, d)
        for b in 0..<batch {
            (lastHidden.pointer + b * d).update(from: x.pointer + ((b + 1) * length - 1) * d, count: d)
        }
        return head.forward(finalNorm.forward(lastHidden))
    }
}
