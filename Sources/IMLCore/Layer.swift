// The layer convention of this core (llm.c style):
//  - a layer is a final class holding its parameters, their gradients and the activations that
//    backward needs, in named Tensors allocated once and resized (never reallocated) per batch;
//  - `forward` returns the layer's own output buffer; `backward` takes dL/dOutput and returns the
//    layer's own dL/dInput buffer, ACCUMULATING (+=) into its parameter gradients, so several
//    backward passes can add up before one optimizer step; `zeroGrad` clears them;
//  - the parameter list is built once, in init; a composite layer names its parts' parameters
//    with `prefixed` ("block0.attn.qkv.weight");
//  - shapes are written in a comment at the top of each layer's file.

public protocol Layer: AnyObject {
    /// Parameters with their gradients, in a fixed order (the optimizer and checkpoints rely on it).
    var parameters: [Parameter] { get }
}

extension Layer {
    public func zeroGrad() { parameters.zeroGrad() }
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}

extension Array where Element == Parameter {
    /// Clears every gradient (backward passes accumulate into them).
    public func zeroGrad() { for p in self { p.grad.zero() } }

    /// The same parameters named "prefix.name".
    public func prefixed(_ prefix: String) -> [Parameter] {
        map { Parameter(prefix + "." + $0.name, $0.value, $0.grad) }
    }
}
