import { Reflector } from '@nestjs/core';
import type { ModelSelection } from './model-selection.js';

/**
 * The model of a route's inference calls, on a handler or a controller (the handler's wins):
 * `@InferenceModel('chat')` or `@InferenceModel({ model: 'chat', maxTokens: 400 })`. A call that
 * names its own model keeps it. A model the module does not know fails the app at startup.
 */
export const InferenceModel = Reflector.createDecorator<string | ModelSelection, ModelSelection>({
  transform: (selection) => (typeof selection === 'string' ? { model: selection } : selection),
});
