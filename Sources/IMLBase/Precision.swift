// The arithmetic of a run's matrix products (`--precision`): fp32 throughout, or the paper's
// bfloat16 inputs with fp32 sums (CKernels/gemm_bf16.c). Everything else stays fp32 either way:
// master weights, Adam, LayerNorm, softmax, the loss and every reduction.

public enum Precision: String, Codable, CaseIterable, Sendable {
    case fp32
    case bf16
}
