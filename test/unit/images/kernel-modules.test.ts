import { describe, expect, it } from 'vitest';
import { loadOrderFromModulesDep } from '../../../harness/images/microvm/kernel-modules.ts';

// Lines as depmod writes them for Debian's 6.1 kernel.
const MODULES_DEP = [
  'kernel/drivers/virtio/virtio.ko:',
  'kernel/drivers/virtio/virtio_ring.ko:',
  'kernel/drivers/virtio/virtio_pci_legacy_dev.ko:',
  'kernel/drivers/virtio/virtio_pci_modern_dev.ko:',
  'kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
  'kernel/net/core/failover.ko:',
  'kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko',
  'kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
  '',
].join('\n');

describe('loadOrderFromModulesDep', () => {
  it('puts every dependency before its user, each module once', () => {
    const order = loadOrderFromModulesDep(MODULES_DEP, ['virtio_pci', 'virtio_net']);
    expect(new Set(order).size).toBe(order.length);
    expect(order).toHaveLength(8);
    const at = (m: string): number => order.findIndex((p) => p.endsWith(`/${m}.ko`));
    expect(at('virtio')).toBeLessThan(at('virtio_pci'));
    expect(at('failover')).toBeLessThan(at('net_failover'));
    expect(at('net_failover')).toBeLessThan(at('virtio_net'));
    expect(order.at(-1)).toBe('kernel/drivers/net/virtio_net.ko');
  });

  it('names the module it cannot find', () => {
    expect(() => loadOrderFromModulesDep(MODULES_DEP, ['e1000'])).toThrow(/e1000 is neither in this kernel's modules.dep nor built in/);
  });

  it('skips drivers built into the kernel (modules.builtin)', () => {
    const order = loadOrderFromModulesDep(MODULES_DEP, ['virtio_pci', 'virtio_net'], 'kernel/drivers/virtio/virtio_pci.ko\n');
    expect(order.some((p) => p.endsWith('/virtio_pci.ko'))).toBe(false);
    expect(order.at(-1)).toBe('kernel/drivers/net/virtio_net.ko');
  });

  it('takes an optional module the kernel has, and leaves out one it lacks', () => {
    const withVeth = `${MODULES_DEP}kernel/drivers/net/veth.ko:\n`;
    expect(loadOrderFromModulesDep(withVeth, ['virtio_net'], '', ['veth']).at(-1)).toBe('kernel/drivers/net/veth.ko');
    expect(loadOrderFromModulesDep(MODULES_DEP, ['virtio_net'], '', ['veth']).some((p) => p.includes('veth'))).toBe(false);
    expect(loadOrderFromModulesDep(MODULES_DEP, ['virtio_net'], 'kernel/drivers/net/veth.ko\n', ['veth']).at(-1)).toBe('kernel/drivers/net/virtio_net.ko');
  });
});
