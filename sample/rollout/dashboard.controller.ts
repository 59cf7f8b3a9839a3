import { Controller, Get, Header } from '@nestjs/common';
import { DASHBOARD_CSP, DASHBOARD_HTML } from './dashboard.page.js';

/**
 * `GET /dashboard`: the rollout page. The page itself holds no data, so it is served to anyone;
 * what it shows comes from the `/rollout` routes, with the token the operator types when a read
 * token is set.
 */
@Controller('dashboard')
export class DashboardController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', DASHBOARD_CSP)
  @Header('cache-control', 'no-store')
  @Header('x-content-type-options', 'nosniff')
  page(): string {
    return DASHBOARD_HTML;
  }
}
