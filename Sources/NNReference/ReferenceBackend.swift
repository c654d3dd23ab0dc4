import NNCore

/// The plain reference backend: every kernel a loop a reader can check against the maths.
public enum Reference {
    public static let backend = OpTable(
        name: "reference",
        details: "plain Swift loops, generic over Float and Double",
        ops: [convolutionOps, convolutionTransposeOps, linearOps, elementwiseOps, reductionOps, softmaxOps, lossOps, interpolateOps, activationOps, poolingOps, normalizationOps, shapeOps, samplingOps, dropoutOps]
            .reduce(into: [:]) { table, family in table.merge(family) { a, _ in a } })
}
