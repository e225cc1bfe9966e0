import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { promisify } from 'node:util';
import ipaddr from 'ipaddr.js';
import { DomainError } from '../../domain/shared/domain-error.js';

const lookupAll = promisify(dnsLookup);

/** Ranges of ipaddr.js's range() that a webhook may reach: only the public internet. */
const PUBLIC_RANGES: ReadonlySet<string> = new Set(['unicast']);

/** Well-known metadata services that sit inside public-looking ranges as well. */
const METADATA_ADDRESSES: ReadonlySet<string> = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);

export interface UrlGuardOptions {
  /** WEBHOOK_ALLOW_PRIVATE=1: every address is allowed (local development, tests). */
  readonly allowPrivate: boolean;
  /** Hosts (names or literal addresses) allowed whatever they resolve to (WEBHOOK_ALLOWED_HOSTS). */
  readonly allowedHosts: readonly string[];
}

/** Why an address is refused; undefined when it is allowed. */
export function refusedAddress(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  let parsed = ipaddr.parse(address);
  // ::ffff:10.0.0.1 reaches 10.0.0.1: judge the IPv4 address it carries.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  if (METADATA_ADDRESSES.has(parsed.toString())) return 'a cloud metadata address';
  const range = parsed.range();
  return PUBLIC_RANGES.has(range) ? undefined : `a ${range} address`;
}

/**
 * SSRF protection for webhook URLs: the host is resolved, EVERY address it resolves to is checked (a name
 * with one private address among public ones is refused), and the request is then made to the checked
 * address (`lookup` below, given to the HTTP client) so a second resolution cannot swap in another.
 */
export class UrlGuard {
  private readonly allowedHosts: ReadonlySet<string>;

  constructor(private readonly options: UrlGuardOptions) {
    this.allowedHosts = new Set(options.allowedHosts.map((host) => host.toLowerCase()));
  }

  /** The addresses to connect to, all checked; DomainError webhook_url_not_allowed otherwise. */
  async resolve(url: URL): Promise<LookupAddress[]> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const skipCheck = this.options.allowPrivate || this.allowedHosts.has(host.toLowerCase());
    let addresses: LookupAddress[];
    if (ipaddr.isValid(host)) addresses = [{ address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 }];
    else {
      try {
        addresses = await lookupAll(host, { all: true, verbatim: true });
      } catch (error) {
        throw new DomainError('webhook_url_not_allowed', `the webhook host ${host} does not resolve`, {
          host,
          reason: (error as NodeJS.ErrnoException).code ?? 'lookup failed',
        });
      }
    }
    if (addresses.length === 0)
      throw new DomainError('webhook_url_not_allowed', `the webhook host ${host} does not resolve`, { host });
    if (!skipCheck) {
      for (const { address } of addresses) {
        const why = refusedAddress(address);
        if (why !== undefined)
          throw new DomainError('webhook_url_not_allowed', `the webhook host ${host} resolves to ${why}`, {
            host,
            address,
          });
      }
    }
    return addresses;
  }

  /** A `lookup` for http.request that answers with the checked addresses only. */
  async pinnedLookup(url: URL) {
    const [first] = await this.resolve(url);
    return (
      _hostname: string,
      options: { all?: boolean },
      callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
    ) => {
      if (options.all) callback(null, [first!]);
      else callback(null, first!.address, first!.family);
    };
  }
}
