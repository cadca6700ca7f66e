/**
 * Error hierarchy of the OVSDB client. Every error carries a stable `code`
 * string so callers can branch without `instanceof` chains across realms.
 * Subsystems add their own subclasses in their own files.
 */
export class OvsdbError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
