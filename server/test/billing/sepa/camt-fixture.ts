import { create } from 'xmlbuilder2';

/** One booked (or pending) transaction of a test bank statement, as a bank reports it. */
export interface FixtureTransaction {
  readonly direction: 'CRDT' | 'DBIT';
  readonly amount: string;
  readonly bookingDate: string;
  readonly endToEndId?: string;
  readonly remittance?: string;
  readonly counterparty?: string;
  readonly returnReason?: string;
  readonly status?: 'BOOK' | 'PDNG';
  readonly currency?: string;
}

type Node = { [name: string]: string | Node | Node[] };

/**
 * A camt.053 statement of the community's account in version .02 or .08, the elements in the
 * order of the XSDs (the tests validate it against them where the schemas are present).
 */
export function camt053(version: '02' | '08', transactions: readonly FixtureTransaction[]): string {
  const modern = version === '08';
  const party = (name: string): Node => (modern ? { Pty: { Nm: name } } : { Nm: name });
  const entries: Node[] = transactions.map((t, i) => {
    const detail: Node = {
      Refs: { EndToEndId: t.endToEndId ?? 'NOTPROVIDED' },
      ...(modern ? { Amt: { '@Ccy': t.currency ?? 'EUR', '#': t.amount }, CdtDbtInd: t.direction } : { AmtDtls: { TxAmt: { Amt: { '@Ccy': t.currency ?? 'EUR', '#': t.amount } } } }),
      ...(t.counterparty ? { RltdPties: { [t.direction === 'CRDT' ? 'Dbtr' : 'Cdtr']: party(t.counterparty) } } : {}),
      ...(t.remittance ? { RmtInf: { Ustrd: t.remittance } } : {}),
      ...(t.returnReason ? { RtrInf: { Rsn: { Cd: t.returnReason } } } : {}),
    };
    return {
      NtryRef: `E${i + 1}`,
      Amt: { '@Ccy': t.currency ?? 'EUR', '#': t.amount },
      CdtDbtInd: t.direction,
      Sts: modern ? { Cd: t.status ?? 'BOOK' } : t.status ?? 'BOOK',
      BookgDt: { Dt: t.bookingDate },
      ValDt: { Dt: t.bookingDate },
      BkTxCd: { Domn: { Cd: 'PMNT', Fmly: { Cd: t.direction === 'CRDT' ? 'RCDT' : 'ICDT', SubFmlyCd: 'ESCT' } } },
      NtryDtls: { TxDtls: detail },
    };
  });
  return create({ version: '1.0', encoding: 'UTF-8' }, {
    Document: {
      '@xmlns': `urn:iso:std:iso:20022:tech:xsd:camt.053.001.${version}`,
      BkToCstmrStmt: {
        GrpHdr: { MsgId: 'STMT-2026-11-20', CreDtTm: '2026-11-20T06:00:00' },
        Stmt: {
          Id: 'STMT-2026-11-20-1',
          CreDtTm: '2026-11-20T06:00:00',
          Acct: { Id: { IBAN: 'AT611904300234573201' } },
          Bal: { Tp: { CdOrPrtry: { Cd: 'CLBD' } }, Amt: { '@Ccy': 'EUR', '#': '1000.00' }, CdtDbtInd: 'CRDT', Dt: { Dt: '2026-11-20' } },
          Ntry: entries,
        },
      },
    },
  }).end({ prettyPrint: true });
}
