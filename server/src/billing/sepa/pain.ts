import { create } from 'xmlbuilder2';
import { BadRequestError } from '../../kernel/errors.js';
import { formatFixed } from '../../kernel/decimal.js';
import { DATE_RANGE_TEXT, isWithinDateRange } from '../../kernel/time.js';
import { sepaDate, sepaId } from './accounts.js';
import { checkParty, type DirectDebit, type Payment, type SepaParty } from './payments.js';

/**
 * SEPA payment files for the community's bank: pain.008 (direct debits, SDD Core or B2B) and
 * pain.001 (credit transfers), each in the 2009 version every SEPA bank still takes (.02/.03) and
 * the 2019 version of the current EPC rulebooks (.08/.09). The two differ only in the agent's
 * BIC element (BIC → BICFI, the older one with a narrower pattern) and in pain.001's execution
 * date (a date → a choice of date or date-time), so one writer serves both. Written with
 * xmlbuilder2 (escaping, UTF-8, namespaces); the tests validate every variant against the official
 * ISO 20022 XSDs.
 */
export const DIRECT_DEBIT_VERSIONS = ['pain.008.001.02', 'pain.008.001.08'] as const;
export const CREDIT_TRANSFER_VERSIONS = ['pain.001.001.03', 'pain.001.001.09'] as const;
export type DirectDebitVersion = (typeof DIRECT_DEBIT_VERSIONS)[number];
export type CreditTransferVersion = (typeof CREDIT_TRANSFER_VERSIONS)[number];
export type PainVersion = DirectDebitVersion | CreditTransferVersion;

export interface FileHeader {
  /** Unique per file and community (e.g. `SUN-2026-10-DD-1`); also the payment-information id. */
  readonly messageId: string;
  /** Creation time, UTC ms (passed in: the domain never reads the clock). */
  readonly createdAtMs: number;
  /** The local day the bank should collect or execute, `YYYY-MM-DD`. */
  readonly executionDate: string;
}

export interface DirectDebitFile extends FileHeader {
  readonly creditor: SepaParty;
  readonly scheme: 'CORE' | 'B2B';
  /** FRST/RCUR/OOFF/FNAL. Since the 2016 rulebook RCUR may also be used for the first collection. */
  readonly sequenceType: 'FRST' | 'RCUR' | 'OOFF' | 'FNAL';
  readonly debits: readonly DirectDebit[];
}

export interface CreditTransferFile extends FileHeader {
  readonly debtor: SepaParty;
  readonly transfers: readonly Payment[];
}

type XmlObject = { [name: string]: string | XmlObject | XmlObject[] };

const namespace = (version: PainVersion) => `urn:iso:std:iso:20022:tech:xsd:${version}`;
const modern = (version: PainVersion) => version === 'pain.008.001.08' || version === 'pain.001.001.09';
const euros = (cents: bigint) => formatFixed(cents, 2);
const amount = (cents: bigint): XmlObject => ({ '@Ccy': 'EUR', '#': euros(cents) });

/**
 * The 2009 versions' BICIdentifier (ISO 9362:2009): no 0 or 1 as the location code's first
 * character, no letter O as its second. ISO 9362:2014 allows them (the 2019 versions' BICFI does).
 */
const BIC_2009 = /^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$/;

/**
 * A bank by its BIC, or — where there is none, or the 2009 schema cannot carry it — IBAN-only
 * (`NOTPROVIDED`), which every SEPA bank takes since 2016: the IBAN names the bank.
 */
function agent(version: PainVersion, bic: string | undefined): XmlObject {
  if (modern(version) && bic) return { FinInstnId: { BICFI: bic } };
  if (bic && BIC_2009.test(bic)) return { FinInstnId: { BIC: bic } };
  return { FinInstnId: { Othr: { Id: 'NOTPROVIDED' } } };
}

function groupHeader(file: FileHeader, initiator: string, transactions: readonly Payment[]): XmlObject {
  if (!isWithinDateRange(file.createdAtMs)) throw new BadRequestError(`the creation time is not a time ${DATE_RANGE_TEXT}`, 'createdAtMs');
  sepaDate(file.executionDate, 'executionDate');
  if (transactions.length === 0) throw new BadRequestError('a SEPA file needs at least one transaction', 'transactions');
  return {
    MsgId: sepaId(file.messageId, 'messageId'),
    CreDtTm: new Date(file.createdAtMs).toISOString().slice(0, 19),
    NbOfTxs: String(transactions.length),
    CtrlSum: euros(controlSum(transactions)),
    InitgPty: { Nm: initiator },
  };
}

const controlSum = (transactions: readonly Payment[]) => transactions.reduce((sum, t) => sum + t.amountCents, 0n);

/** One payment-information block per file: its id, counts and sum repeat the group header's. */
const batchOf = (header: XmlObject, method: 'DD' | 'TRF'): XmlObject =>
  ({ PmtInfId: header.MsgId!, PmtMtd: method, BtchBookg: 'true', NbOfTxs: header.NbOfTxs!, CtrlSum: header.CtrlSum! });

const render = (version: PainVersion, root: string, body: XmlObject) =>
  create({ version: '1.0', encoding: 'UTF-8' }, { Document: { '@xmlns': namespace(version), [root]: body } }).end({ prettyPrint: true });

export function directDebitXml(file: DirectDebitFile, version: DirectDebitVersion): string {
  const creditor = checkParty(file.creditor, true);
  const header = groupHeader(file, creditor.name, file.debits);
  return render(version, 'CstmrDrctDbtInitn', {
    GrpHdr: header,
    PmtInf: {
      ...batchOf(header, 'DD'),
      PmtTpInf: { SvcLvl: { Cd: 'SEPA' }, LclInstrm: { Cd: file.scheme }, SeqTp: file.sequenceType },
      ReqdColltnDt: file.executionDate,
      Cdtr: { Nm: creditor.name },
      CdtrAcct: { Id: { IBAN: creditor.iban } },
      CdtrAgt: agent(version, creditor.bic),
      ChrgBr: 'SLEV',
      CdtrSchmeId: { Id: { PrvtId: { Othr: { Id: creditor.creditorId!, SchmeNm: { Prtry: 'SEPA' } } } } },
      DrctDbtTxInf: file.debits.map((debit) => ({
        PmtId: { EndToEndId: debit.endToEndId },
        InstdAmt: amount(debit.amountCents),
        DrctDbtTx: { MndtRltdInf: { MndtId: debit.mandateId, DtOfSgntr: debit.mandateSignedOn } },
        DbtrAgt: agent(version, debit.bic),
        Dbtr: { Nm: debit.name },
        DbtrAcct: { Id: { IBAN: debit.iban } },
        RmtInf: { Ustrd: debit.remittance || debit.endToEndId },
      })),
    },
  });
}

export function creditTransferXml(file: CreditTransferFile, version: CreditTransferVersion): string {
  const debtor = checkParty(file.debtor, false);
  const header = groupHeader(file, debtor.name, file.transfers);
  return render(version, 'CstmrCdtTrfInitn', {
    GrpHdr: header,
    PmtInf: {
      ...batchOf(header, 'TRF'),
      PmtTpInf: { SvcLvl: { Cd: 'SEPA' } },
      ReqdExctnDt: modern(version) ? { Dt: file.executionDate } : file.executionDate,
      Dbtr: { Nm: debtor.name },
      DbtrAcct: { Id: { IBAN: debtor.iban } },
      DbtrAgt: agent(version, debtor.bic),
      ChrgBr: 'SLEV',
      CdtTrfTxInf: file.transfers.map((transfer) => ({
        PmtId: { EndToEndId: transfer.endToEndId },
        Amt: { InstdAmt: amount(transfer.amountCents) },
        ...(transfer.bic ? { CdtrAgt: agent(version, transfer.bic) } : {}),
        Cdtr: { Nm: transfer.name },
        CdtrAcct: { Id: { IBAN: transfer.iban } },
        RmtInf: { Ustrd: transfer.remittance || transfer.endToEndId },
      })),
    },
  });
}
