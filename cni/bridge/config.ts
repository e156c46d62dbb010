// shoal-bridge configuration: the top-level keys of a network config (the `ipam` section belongs to
// the IPAM plugin). Validated once; unknown keys are refused with code 2 naming the key; every other
// problem is collected with its path and reported together with code 7.

import { type FieldError, Path, fieldError } from '../../api/field.js';
import { CniCode, CniError, configError } from '../spec/errors.js';
import { type NetConf, commonConfKeys } from '../spec/types.js';

/** The validated bridge config. */
export interface BridgeConfig {
  bridge: string;
  mtu: number | undefined;
  mac: string | undefined;
  isGateway: boolean;
  isDefaultGateway: boolean;
  hairpinMode: boolean;
  promiscMode: boolean;
  ipMasq: boolean;
  forceAddress: boolean;
  ipamType: string;
}

/** The default bridge name. */
export const defaultBridge = 'shoal0';

const bridgeKeys = ['bridge', 'mtu', 'mac', 'isGateway', 'isDefaultGateway', 'hairpinMode', 'promiscMode', 'ipMasq', 'forceAddress'];
const macRe = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;

/** Whether `name` is a valid Linux interface name. */
export function validIfName(name: string): boolean {
  return name.length > 0 && name.length <= 15 && !/[/:\s]/.test(name) && name !== '.' && name !== '..';
}

/** Validates the bridge keys of `conf`, plus the mac from runtimeConfig or CNI_ARGS. */
export function parseBridgeConfig(conf: NetConf, cniArgs: Record<string, string> = {}): BridgeConfig {
  for (const k of Object.keys(conf)) {
    if (!bridgeKeys.includes(k) && !(commonConfKeys as readonly string[]).includes(k)) {
      throw new CniError(CniCode.UnsupportedField, `${k}: unsupported field (value ${JSON.stringify(conf[k])})`);
    }
  }
  const errs: FieldError[] = [];
  const bool = (k: string): boolean => {
    const v = conf[k];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') errs.push(fieldError.invalid(k, v, 'must be true or false'));
    return v === true;
  };
  const bridge = conf.bridge ?? defaultBridge;
  if (typeof bridge !== 'string' || !validIfName(bridge)) errs.push(fieldError.invalid('bridge', bridge, 'must be an interface name of 1 to 15 characters'));
  const mtu = conf.mtu;
  if (mtu !== undefined && (!Number.isInteger(mtu) || (mtu as number) < 68 || (mtu as number) > 65535)) {
    errs.push(fieldError.invalid('mtu', mtu, 'must be an integer between 68 and 65535'));
  }
  const macSources: [string, unknown][] = [
    ['runtimeConfig.mac', conf.runtimeConfig?.mac],
    ['args.cni.mac', (conf.args?.cni as Record<string, unknown> | undefined)?.mac],
    ['CNI_ARGS.MAC', cniArgs.MAC],
    ['mac', conf.mac],
  ];
  let mac: string | undefined;
  for (const [field, v] of macSources) {
    if (v === undefined || mac) continue;
    if (typeof v !== 'string' || !macRe.test(v)) errs.push(fieldError.invalid(field, v, 'must be a MAC address such as 0a:58:0a:f4:00:05'));
    else if (parseInt(v.slice(0, 2), 16) & 1) errs.push(fieldError.invalid(field, v, 'must be a unicast MAC address'));
    else mac = v.toLowerCase();
  }
  const isDefaultGateway = bool('isDefaultGateway');
  const cfg: BridgeConfig = {
    bridge: String(bridge),
    mtu: mtu as number | undefined,
    mac,
    isGateway: bool('isGateway') || isDefaultGateway,
    isDefaultGateway,
    hairpinMode: bool('hairpinMode'),
    promiscMode: bool('promiscMode'),
    ipMasq: bool('ipMasq'),
    forceAddress: bool('forceAddress'),
    ipamType: '',
  };
  const ipam = conf.ipam;
  const ip = Path.root('ipam');
  if (!ipam || typeof ipam !== 'object') errs.push(fieldError.required(ip));
  else if (typeof ipam.type !== 'string' || ipam.type === '') errs.push(fieldError.required(ip.child('type')));
  else cfg.ipamType = ipam.type;
  if (errs.length) throw configError(errs);
  return Object.freeze(cfg);
}
