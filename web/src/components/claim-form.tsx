import { useState } from 'preact/hooks';
import { call } from '../api/client.js';
import { DEVICE_ROLES, type Device, type DeviceRole, type MeteringPoint } from '@gridshare/contract/registry';
import { claimCodeFrom } from '../lib/claim.js';
import { useAction } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';
import { deviceKindName, deviceRoleName } from '../lib/names.js';
import { ErrorNote, Field } from './ui.js';
import { QrScanner } from './qr-scanner.js';

/** Claim a device with the code from its sticker: typed, from the QR's URL, or scanned with the camera. */
export function ClaimForm({ points, initialCode = '', onClaimed }: { points: MeteringPoint[]; initialCode?: string; onClaimed: (device: Device) => void }) {
  const [code, setCode] = useState(initialCode);
  const [pointId, setPointId] = useState(points[0]?.id ?? '');
  const [role, setRole] = useState<DeviceRole>('billing-meter');
  const [scanning, setScanning] = useState(false);
  const [claimed, setClaimed] = useState<Device | undefined>(undefined);
  const action = useAction();
  const { t } = useI18n();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const device = await call('claimDevice', { body: { code: code.trim(), meteringPointId: pointId, role } });
      setClaimed(device);
      setCode('');
      onClaimed(device);
    });
  };
  if (points.length === 0) return <p>{t('claim.addSiteFirst')}</p>;
  return (
    <form onSubmit={submit} class="claim">
      <Field id="claim-code" label={t('claim.code')} hint={t('claim.codeHint')}>
        <input id="claim-code" name="code" value={code} onInput={(e) => setCode(e.currentTarget.value)} required maxLength={40}
          autocomplete="off" autocapitalize="characters" spellcheck={false} aria-describedby="claim-code-hint" />
      </Field>
      {!scanning && <button type="button" class="secondary" onClick={() => setScanning(true)}>{t('claim.scan')}</button>}
      {scanning && (
        <QrScanner
          onClose={() => setScanning(false)}
          onText={(text) => {
            const found = claimCodeFrom(text);
            if (found) setCode(found);
            return found !== undefined;
          }}
        />
      )}
      <Field id="claim-point" label={t('claim.site')}>
        <select id="claim-point" value={pointId} onChange={(e) => setPointId(e.currentTarget.value)}>
          {points.map((p) => <option value={p.id}>{p.name}</option>)}
        </select>
      </Field>
      <Field id="claim-role" label={t('claim.role')} hint={t('claim.roleHint')}>
        <select id="claim-role" value={role} onChange={(e) => setRole(e.currentTarget.value as DeviceRole)} aria-describedby="claim-role-hint">
          {DEVICE_ROLES.map((r) => <option value={r}>{deviceRoleName(r, t)}</option>)}
        </select>
      </Field>
      <ErrorNote error={action.error} />
      {claimed && (
        <p role="status" class="ok">
          {/* A device still under its provisioned name ("meter-reader gs-…") is called by its kind and id, the id said once. */}
          {claimed.name.includes(claimed.id)
            ? t('claim.claimedUnnamed', { kind: deviceKindName(claimed.kind, t), id: claimed.id })
            : t('claim.claimed', { name: claimed.name, id: claimed.id })}
        </p>
      )}
      <button type="submit" disabled={action.busy}>{action.busy ? t('claim.claiming') : t('claim.submit')}</button>
    </form>
  );
}
