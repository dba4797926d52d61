// The ConvNet + MLP of the vision experiments (docs/PROTOCOL.md section 3), built from IMLCore layers:
//
//   images [B, Cin, H, W]
//   -> for each c in channels: conv 3x3 (padding 1) -> ReLU -> max-pool 2x2   [B, c, H/2^i, W/2^i]
//   -> flatten [B, F], F = channels.last * H' * W'
//   -> for each h in hidden: Linear -> ReLU                                    [B, h]
//   -> Linear -> logits [B, T*C], read as T heads of C classes.
// Default: 1x60x56 -> 16x30x28 -> 32x15x14 -> 32x7x7 = 1568 -> 256 -> 256 -> 6*10.
// Each block is one ConvPoolReLU, the convolution with its max-pool + ReLU fused: pooling before ReLU is the
// protocol's conv -> ReLU -> pool exactly (ReLU is monotone, so the outputs and gradients are
// identical), and fused, the full-resolution maps never leave the cache.
// Initialisation as PyTorch's defaults, U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for weights and biases,
// drawn from one seeded stream so the same seed gives the same weights.

import IMLBase
import IMLCore

public final class ConvNetMLP: Layer {
    /// The sizes a run may choose: conv channels per block and hidden MLP widths.
    public struct Sizes: Codable, Equatable, Sendable {
        public var channels = [16, 32, 32]
        public var hidden = [256, 256]
        public init() {}

        public func validate() throws {
            if channels.isEmpty || channels.contains(where: { $0 < 1 }) || hidden.contains(where: { $0 < 1 }) {
                throw IMLError("The ConvNet needs at least one conv block and positive channel and hidden sizes (got channels \(channels), hidden \(hidden)).")
            }
        }
    }

    public struct Config: Equatable {
        public var inputChannels = 1
        public var height = 60
        public var width = 56
        public var channels = Sizes().channels
        public var hidden = Sizes().hidden
        public var heads = 6
        public var classes = 10
        public init() {}

        /// How many conv blocks the image allows: each block's 2x2 pooling halves it.
        public var maxBlocks: Int {
            var blocks = 0
            while height >> (blocks + 1) > 0 && width >> (blocks + 1) > 0 { blocks += 1 }
            return blocks
        }

        /// The parameters these sizes give, counted without building the model; a Double, so
        /// absurd widths are counted (and refused) rather than overflowing.
        public var parameterCount: Double {
            var count = 0.0, inChannels = Double(inputChannels)
            for c in channels.map(Double.init) {
                count += inChannels * c * 9 + c
                inChannels = c
            }
            var width = inChannels * Double((height >> channels.count) * (self.width >> channels.count))
            for size in (hidden + [heads * classes]).map(Double.init) {
                count += width * size + size
                width = size
            }
            return count
        }
    }

    /// The largest model a run may ask for: its weights, gradients and Adam's two moments take
    /// 16 bytes a parameter, 800 MB per seed training at once.
    public static let maxParameters = 50_000_000.0

    public let config: Config
    /// Conv blocks: conv 3x3 + max-pool 2x2 + ReLU each, fused (ConvPoolReLU).
    public let convs: [ConvPoolReLU]
    /// Hidden layers and then the output layer.
    public let linears: [Linear]
    public let hiddenReLUs: [ReLU]
    /// Size of the flattened feature map fed to the MLP.
    public let features: Int

    public init(config: Config = Config(), seed: UInt64) {
        precondition(!config.channels.isEmpty && config.channels.allSatisfy { $0 > 0 } && config.hidden.allSatisfy { $0 > 0 },
                     "ConvNetMLP needs at least one conv block and positive channel and hidden sizes, got channels \(config.channels), hidden \(config.hidden)")
        precondition(config.heads > 0 && config.classes > 0,
                     "ConvNetMLP needs positive heads and classes, got \(config.heads) and \(config.classes)")
        let blocks = config.channels.count
        precondition(config.height >> blocks > 0 && config.width >> blocks > 0,
                     "ConvNetMLP: a \(config.height) x \(config.width) image is too small for \(blocks) 2x2 poolings; use fewer channels entries or a larger image")
        self.config = config
        var rng = SeededRandom(seed: seed, stream: "convnet-init")
        var convs: [ConvPoolReLU] = [], inChannels = config.inputChannels
        var h = config.height, w = config.width
        for (i, c) in config.channels.enumerated() {
            // Nothing upstream of the first layer needs a gradient.
            convs.append(ConvPoolReLU(inChannels: inChannels, outChannels: c, kernel: 3, padding: 1,
                                      needsInputGradient: i > 0, rng: &rng))
            inChannels = c
            h /= 2; w /= 2
        }
        features = inChannels * h * w
        var linears: [Linear] = [], width = features
        for size in config.hidden + [config.heads * config.classes] {
            linears.append(Linear(inFeatures: width, outFeatures: size, rng: &rng))
            width = size
        }
        self.convs = convs
        self.linears = linears
        hiddenReLUs = config.hidden.map { _ in ReLU() }
        parameters = convs.enumerated().flatMap { $0.element.parameters.prefixed("conv\($0.offset + 1)") }
            + linears.enumerated().flatMap { $0.element.parameters.prefixed("fc\($0.offset + 1)") }
    }

    /// Parameters in a fixed order: conv1..convN, then fc1..fcN (weight, bias each).
    public let parameters: [Parameter]

    /// The architecture in one line, for config.json.
    public var summary: String {
        "ConvNet \(config.channels.map(String.init).joined(separator: "-")) (3x3, pad 1, ReLU, maxpool 2) + MLP "
            + (config.hidden + [config.heads * config.classes]).map(String.init).joined(separator: "-")
    }

    /// images [B, Cin, H, W] -> logits [B, T*C] (the last Linear's buffer, valid until the next forward).
    /// `observe` sees each block's output [B, c, h, w] ("conv i") and each hidden layer's
    /// [B, h] ("hidden i") as it is computed (for probes; the buffers change on the next forward).
    public func forward(_ images: Tensor, observe: ((String, Tensor) -> Void)? = nil) -> Tensor {
        precondition(images.shape.count == 4 && images.shape[1] == config.inputChannels
                     && images.shape[2] == config.height && images.shape[3] == config.width,
                     "ConvNetMLP expects images [batch, \(config.inputChannels), \(config.height), \(config.width)], got \(images.shape)")
        var x = images
        for (i, conv) in convs.enumerated() {
            x = conv.forward(x)
            observe?("conv \(i + 1)", x)
        }
        // Linear reads the pooled [B, C, h, w] map as [B, C*h*w]: NCHW is already that layout.
        for i in hiddenReLUs.indices {
            x = hiddenReLUs[i].forward(linears[i].forward(x))
            observe?("hidden \(i + 1)", x)
        }
        return linears[linears.count - 1].forward(x)
    }

    /// dlogits [B, T*C] -> accumulates every parameter gradient.
    public func backward(_ dlogits: Tensor) {
        var g = linears[linears.count - 1].backward(dlogits)
        for i in hiddenReLUs.indices.reversed() {
            g = linears[i].backward(hiddenReLUs[i].backward(g))
        }
        for conv in convs.reversed() { g = conv.backward(g) }
    }
}
