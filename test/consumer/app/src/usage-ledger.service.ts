import { Injectable, type OnModuleDestroy } from '@nestjs/common';

/** Like a database client the handlers use: it closes in onModuleDestroy (this app's root module). */
@Injectable()
export class UsageLedger implements OnModuleDestroy {
  private open = true;
  private requests = 0;

  record(): void {
    if (!this.open) throw new Error('The usage ledger is closed: a request outlived the drain.');
    this.requests++;
  }

  onModuleDestroy(): void {
    this.open = false;
    console.log(JSON.stringify({ event: 'ledger-closed', requests: this.requests }));
  }
}
