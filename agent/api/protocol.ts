/**
 * What the local API's server and its clients share: where it listens and the error body. Kept
 * free of imports so that a client (the CNI plugin's bundle) pulls in nothing of the agent.
 */

/** Where the agent listens by default (and the CLI connects). */
export const DEFAULT_API_SOCKET = '/run/vpc-agent/agent.sock';

/**
 * The second socket the agent serves the same API on, for the CNI plugin: the path Kube-OVN's
 * NetworkAttachmentDefinitions name in `server_socket`, so that they work unchanged.
 */
export const DEFAULT_CNI_SOCKET = '/run/openvswitch/kube-ovn-daemon.sock';

export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
}
