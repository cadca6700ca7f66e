/**
 * The agent's error hierarchy. Every error carries a stable `code` string (callers and tests
 * switch on it, never on message text) and keeps its context in `cause`.
 *
 * `ovsdb/` keeps its own `OvsdbError` root because that package knows nothing of the agent;
 * the agent wraps such errors with `new AgentError(code, message, { cause })` where it needs to.
 */

/** Root of the agent's errors. */
export class AgentError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Where a resource came from: a manifest file and the 0-based index of its YAML document. */
export interface SourceRef {
  file: string;
  document: number;
}

/** The fields that identify one validation problem. */
export interface ValidationIssue {
  /** Resource kind, e.g. `Subnet`; `''` when the document had no usable kind. */
  kind: string;
  /** `metadata.name`; `''` when absent. */
  name: string;
  /** Set for namespaced kinds (NetworkAttachmentDefinition). */
  namespace?: string;
  /** Dotted path of the offending field, e.g. `spec.gateway` or `spec.acls[2].priority`. */
  field: string;
  /** What is wrong, without the kind/name/field prefix. */
  message: string;
  /** Manifest file and document index, when the resource was read from a file. */
  source?: SourceRef;
}

/**
 * One problem with one resource. `message` reads
 * `Subnet vswitch1: spec.gateway: 172.20.11.1 is not inside cidrBlock 172.20.10.0/24`;
 * the parts are kept apart in `issue` for JSON output, status and metrics.
 */
export class ValidationError extends AgentError {
  readonly kind: string;
  readonly resourceName: string;
  readonly namespace: string | undefined;
  readonly field: string;
  readonly detail: string;
  readonly source: SourceRef | undefined;

  constructor(issue: ValidationIssue, options?: { cause?: unknown }) {
    super('ERR_VALIDATION', formatIssue(issue), options);
    this.kind = issue.kind;
    this.resourceName = issue.name;
    this.namespace = issue.namespace;
    this.field = issue.field;
    this.detail = issue.message;
    this.source = issue.source;
  }

  /** The plain-data form (for `--json`, `/debug` and logs). */
  get issue(): ValidationIssue {
    const out: ValidationIssue = {
      kind: this.kind,
      name: this.resourceName,
      field: this.field,
      message: this.detail,
    };
    if (this.namespace !== undefined) out.namespace = this.namespace;
    if (this.source !== undefined) out.source = this.source;
    return out;
  }

  toJSON(): ValidationIssue & { code: string } {
    return { code: this.code, ...this.issue };
  }
}

/** `Kind ns/name: field: message` (namespace only for namespaced kinds). */
export function formatIssue(issue: ValidationIssue): string {
  const who = issue.namespace ? `${issue.namespace}/${issue.name}` : issue.name;
  const head = [issue.kind || 'document', who].filter((s) => s !== '').join(' ');
  return issue.field ? `${head}: ${issue.field}: ${issue.message}` : `${head}: ${issue.message}`;
}

/**
 * A manifest that could not be read or parsed as YAML at all (no resource to name): the file
 * and, where known, the document index and line.
 */
export class ManifestError extends AgentError {
  readonly file: string;
  readonly document: number | undefined;
  readonly line: number | undefined;
  readonly detail: string;

  constructor(
    file: string,
    document: number | undefined,
    detail: string,
    options?: { cause?: unknown; line?: number },
  ) {
    const where = [file, document !== undefined ? `document ${document}` : undefined]
      .concat(options?.line !== undefined ? [`line ${options.line}`] : [])
      .filter(Boolean)
      .join(', ');
    super('ERR_MANIFEST', `${where}: ${detail}`, options);
    this.file = file;
    this.document = document;
    this.line = options?.line;
    this.detail = detail;
  }

  toJSON(): { code: string; file: string; document?: number; line?: number; message: string } {
    const out: { code: string; file: string; document?: number; line?: number; message: string } = {
      code: this.code,
      file: this.file,
      message: this.detail,
    };
    if (this.document !== undefined) out.document = this.document;
    if (this.line !== undefined) out.line = this.line;
    return out;
  }
}
