// A typed event emitter: each event name has one payload shape, checked by the compiler. Listeners
// that throw are isolated, so a subscriber can never break the data path that emits.
import { EventEmitter } from 'node:events';

export class TypedEmitter<E extends { [K in keyof E]: object }> {
  readonly #ee = new EventEmitter();

  constructor(private readonly onListenerError: (event: string, err: unknown) => void = () => {}) {
    this.#ee.setMaxListeners(0);
  }

  on<K extends keyof E & string>(event: K, listener: (payload: E[K]) => void): () => void {
    this.#ee.on(event, listener);
    return () => this.#ee.off(event, listener);
  }

  /** Every event, with its name (event feeds, webhooks). */
  onAny(listener: <K extends keyof E & string>(event: K, payload: E[K]) => void): () => void {
    const l = (e: { event: string; payload: object }) => listener(e.event as keyof E & string, e.payload as E[keyof E & string]);
    this.#ee.on('*', l);
    return () => this.#ee.off('*', l);
  }

  emit<K extends keyof E & string>(event: K, payload: E[K]): void {
    for (const [name, arg] of [
      [event, payload],
      ['*', { event, payload }],
    ] as const) {
      for (const l of this.#ee.listeners(name)) {
        try {
          (l as (p: unknown) => void)(arg);
        } catch (err) {
          this.onListenerError(name, err);
        }
      }
    }
  }
}
