/* Hands the NICs over: the firmware's network drivers (SNP, PXE, its
 * virtio-net or e1000 driver) are disconnected before ExitBootServices so
 * none of them keeps a device, its DMA rings or its receive filters once
 * the hypervisor's own drivers take over. */
#include "boot/efi_boot.h"

#include <efipciio.h>

#define PCI_CLASS_NETWORK 0x02

void boot_release_network(struct boot_info *bi)
{
	EFI_GUID pci_io_guid = EFI_PCI_IO_PROTOCOL_GUID;
	EFI_HANDLE *handles = NULL;
	UINTN count = 0;

	if (EFI_ERROR(boot_bs->LocateHandleBuffer(ByProtocol, &pci_io_guid, NULL, &count,
						  &handles)))
		return;
	for (UINTN i = 0; i < count; i++) {
		EFI_PCI_IO_PROTOCOL *pci = NULL;
		UINT32 class_reg = 0;
		if (EFI_ERROR(boot_bs->HandleProtocol(handles[i], &pci_io_guid, (void **)&pci)) ||
		    EFI_ERROR(pci->Pci.Read(pci, EfiPciIoWidthUint32, 0x08, 1, &class_reg)) ||
		    (class_reg >> 24) != PCI_CLASS_NETWORK)
			continue;
		EFI_STATUS s = boot_bs->DisconnectController(handles[i], NULL, NULL);
		if (s == EFI_SUCCESS)
			bi->nics_released++;
		else
			bi->nics_not_released++;
	}
	boot_bs->FreePool(handles);
}
