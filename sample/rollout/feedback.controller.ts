import { BadRequestException, Body, Controller, HttpCode, Post } from '@nestjs/common';
import { InferenceService } from 'nestjs-inference';

interface FeedbackBody {
  requestId?: unknown;
  name?: unknown;
  value?: unknown;
}

/**
 * `POST /feedback {"requestId", "name", "value"}`: a business outcome (a click, a purchase, a
 * return) for a call the gateway answered, named by the `x-request-id` it returned. The rollout
 * judges it canary against stable. `attached: false` when the call is unknown (not routed by the
 * rollout, too old, or from a phase that is over).
 */
@Controller('feedback')
export class FeedbackController {
  constructor(private readonly inference: InferenceService) {}

  @Post()
  @HttpCode(202)
  record(@Body() body: FeedbackBody = {}): { attached: boolean } {
    const { requestId, name, value } = body;
    if (typeof requestId !== 'string' || requestId === '' || requestId.length > 200) {
      throw new BadRequestException('requestId must be the x-request-id of an answered call.');
    }
    if (typeof name !== 'string' || !/^[\w.-]{1,64}$/.test(name)) {
      throw new BadRequestException('name must be 1 to 64 letters, digits, _, . or -.');
    }
    if (typeof value !== 'boolean' && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw new BadRequestException('value must be a number or a boolean.');
    }
    return { attached: this.inference.feedback(requestId, name, value) };
  }
}
