// ViT image classification: configuration, weights (safetensors, synthetic), ONNX graph, model directories.
export {
  DEFAULT_LABELS,
  VIT_PRESETS,
  defaultVitPreprocessor,
  isVitPreset,
  sequenceLength,
  validateVitConfig,
  vitConfigFromHf,
  vitConfigToHf,
  type VitConfig,
  type VitPreset,
} from './config.ts';
export { VIT_INPUT_NAME, VIT_OUTPUT_NAME, buildVitGraph, type VitGraphOptions } from './graph.ts';
export {
  buildSyntheticVitModelDir,
  convertHfVitModelDir,
  writeVitModelDir,
  type SyntheticVitModelDirOptions,
  type VitModelDirResult,
  type VitQuantization,
  type WriteVitModelDirOptions,
} from './model-dir.ts';
export {
  decodeSafetensors,
  readSafetensors,
  writeSafetensors,
  type SafetensorsDtype,
  type SafetensorsWriteTensor,
} from './safetensors.ts';
export { syntheticVitWeights, type SyntheticWeightOptions } from './synthetic.ts';
export {
  checkVitWeights,
  vitParameterCount,
  vitParameterShapes,
  type VitWeights,
  type WeightTensor,
} from './weights.ts';
