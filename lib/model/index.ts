export { InferenceModel } from './inference-model.decorator.js';
export { InferenceModelValidator } from './inference-model.validator.js';
export { ModelCatalog, type CatalogModel } from './model-catalog.js';
export type { ModelSelection } from './model-selection.js';
