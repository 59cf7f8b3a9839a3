import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { INFERENCE_OPTIONS } from '../inference.constants.js';
import { At, checkBudgets, InferenceOptionsError, type Issue } from '../rules/index.js';
import { InferenceModel } from './inference-model.decorator.js';
import { ModelCatalog, type ModelCatalogOptions } from './model-catalog.js';
import type { ModelSelection } from './model-selection.js';

/**
 * Checks every `@InferenceModel(...)` in the app as it starts: a model the module does not know,
 * an unknown provider or a bad default stops the app with a message naming the controller and
 * handler, rather than failing the first request that reaches them.
 */
@Injectable()
export class InferenceModelValidator implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly catalog: ModelCatalog,
    @Inject(INFERENCE_OPTIONS) private readonly options: Pick<ModelCatalogOptions, 'providers'>,
  ) {}

  onModuleInit(): void {
    const problems: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!controller?.prototype) continue;
      const onClass = this.reflector.get(InferenceModel, controller);
      if (onClass) problems.push(...this.#check(onClass, controller.name));
      for (const method of this.scanner.getAllMethodNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[method] as () => unknown;
        const onHandler = this.reflector.get(InferenceModel, handler);
        if (onHandler) problems.push(...this.#check(onHandler, `${controller.name}.${method}`));
      }
    }
    if (problems.length > 0) throw new InferenceOptionsError(problems);
  }

  #check(selection: ModelSelection, where: string): string[] {
    const problems: string[] = [];
    const at = `@InferenceModel on ${where}`;
    if (typeof selection?.model !== 'string' || !this.catalog.knows(selection.model)) {
      problems.push(
        `${at} names model ${JSON.stringify(selection?.model)}, which is not configured. Add it to the module's models (or a provider's defaultModel or prices); known: ${this.catalog.names.join(', ') || 'none'}.`,
      );
    }
    if (selection.provider !== undefined && !this.options.providers.has(selection.provider)) {
      problems.push(
        `${at} pins provider ${JSON.stringify(selection.provider)}, which is not configured. Use one of: ${[...this.options.providers.keys()].join(', ')}.`,
      );
    }
    const { temperature, maxTokens, timeouts } = selection;
    if (
      temperature !== undefined &&
      !(typeof temperature === 'number' && temperature >= 0 && temperature <= 2)
    ) {
      problems.push(`${at} has temperature ${String(temperature)}; use a number from 0 to 2.`);
    }
    if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && maxTokens > 0)) {
      problems.push(`${at} has maxTokens ${String(maxTokens)}; use a positive integer.`);
    }
    const issues: Issue[] = [];
    checkBudgets(timeouts, new At(issues, ['timeouts'], `${at}: `), 'route');
    return [...problems, ...issues.map((issue) => issue.message)];
  }
}
